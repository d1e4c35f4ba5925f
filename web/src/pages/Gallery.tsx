import { useCallback, useEffect, useState } from "react";
import { useApi } from "../api/ApiProvider";
import type { Video } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { VideoCard } from "../components/VideoCard";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";

const PAGE_SIZE = 12;

export function Gallery() {
  const { t } = useI18n();
  usePageTitle(t("gallery.title"));
  const api = useApi();
  const [items, setItems] = useState<Video[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const page = await api.publicVideos(after, PAGE_SIZE);
        setItems((prev) => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.next_cursor);
      } catch (err) {
        setError(err);
      } finally {
        setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

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
      <div className="actions center">
        {loading && <p role="status">{t("common.loading")}</p>}
        {!loading && cursor && (
          <button type="button" onClick={() => load(cursor)} data-testid="load-more">
            {t("common.loadMore")}
          </button>
        )}
      </div>
    </section>
  );
}
