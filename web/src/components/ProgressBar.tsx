import { useI18n } from "../i18n/I18nProvider";

/** A bar with its percentage as text; `<progress>` gives screen readers the value. */
export function ProgressBar({ value, label }: { value: number; label: string }) {
  const { percent } = useI18n();
  const clamped = Math.min(1, Math.max(0, value));
  return (
    <div className="progress">
      <progress max={1} value={clamped} aria-label={label} data-testid="progress" />
      <span className="progress-text">{percent(clamped)}</span>
    </div>
  );
}
