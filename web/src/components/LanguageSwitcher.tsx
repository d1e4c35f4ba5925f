import { useId } from "react";
import { useI18n } from "../i18n/I18nProvider";
import { LANGUAGE_NAMES, LANGUAGES } from "../i18n/languages";
import type { Language } from "../i18n/languages";

export function LanguageSwitcher() {
  const { lang, setLang, t } = useI18n();
  const id = useId();
  return (
    <span className="language">
      <label htmlFor={id} className="visually-hidden">
        {t("nav.language")}
      </label>
      <select
        id={id}
        value={lang}
        data-testid="language"
        onChange={(event) => setLang(event.target.value as Language)}
      >
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {LANGUAGE_NAMES[code]}
          </option>
        ))}
      </select>
    </span>
  );
}
