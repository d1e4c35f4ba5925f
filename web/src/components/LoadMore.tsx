import { useI18n } from "../i18n/I18nProvider";

/** Below a paged list: "loading" while a page is on its way, else a button for the next one. */
export function LoadMore(props: { loading: boolean; cursor: string | null; onMore: () => void }) {
  const { t } = useI18n();
  return (
    <div className="actions center">
      {props.loading && <p role="status">{t("common.loading")}</p>}
      {!props.loading && props.cursor && (
        <button type="button" onClick={props.onMore} data-testid="load-more">
          {t("common.loadMore")}
        </button>
      )}
    </div>
  );
}
