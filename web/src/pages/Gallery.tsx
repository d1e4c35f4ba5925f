import { useCallback } from "react";
import { useApi } from "../api/ApiProvider";
import { ErrorMessage } from "../components/ErrorMessage";
import { LoadMore } from "../components/LoadMore";
import { VideoCard } from "../components/VideoCard";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";
import { usePaged } from "../lib/usePaged";

const PAGE_SIZE = 12;

export function Gallery() {
  const { t } = useI18n();
  usePageTitle(t("gallery.title"));
  const api = useApi();
  const fetchPage = useCallback(
    (after: string | null) => api.publicVideos(after, PAGE_SIZE),
    [api],
  );
  const { items, cursor, loading, error, load } = usePaged(fetchPage);

  return (
    <section aria-labelledby="gallery-title">
      <h1 id="gallery-title">{t("gallery.title")}</h1>
      <ErrorMessage error={error} />
      {!loading && !error && items.length === 0 && <p>{t("gallery.empty")}</p>}
      <div className="grid" data-testid="gallery">
        {items.map((video) => (
          <VideoCard key={video.id} video={video} />
        ))}
      </div>
      <LoadMore loading={loading} cursor={cursor} onMore={() => load(cursor)} />
    </section>
  );
}
