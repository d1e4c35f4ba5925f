import { Link } from "react-router-dom";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";
import { PATHS } from "../lib/paths";

export function NotFound() {
  const { t } = useI18n();
  usePageTitle(t("notFound.title"));
  return (
    <section className="card narrow">
      <h1>{t("notFound.title")}</h1>
      <p>
        <Link to={PATHS.gallery}>{t("nav.gallery")}</Link>
      </p>
    </section>
  );
}
