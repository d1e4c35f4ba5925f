import type { Video } from "../api/types";
import { useI18n } from "../i18n/I18nProvider";
import type { MessageKey } from "../i18n/translate";

export function StatusBadge({ video }: { video: Video }) {
  const { t, percent } = useI18n();
  const text =
    video.status === "processing"
      ? t("status.processingPercent", { percent: percent(video.progress) })
      : t(`status.${video.status}` as MessageKey);
  return (
    <span className={`badge badge-${video.status}`} data-testid="status" data-status={video.status}>
      {text}
    </span>
  );
}
