import { useCallback, useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { useApi } from "../api/ApiProvider";
import { isFinal } from "../api/types";
import type { Video, Visibility } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { LoadMore } from "../components/LoadMore";
import { StatusBadge } from "../components/StatusBadge";
import { VideoCard } from "../components/VideoCard";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";
import { PATHS } from "../lib/paths";
import { usePaged } from "../lib/usePaged";

const PAGE_SIZE = 20;
const POLL_MS = 3000;

/** Replace the listed videos that changed, keeping order. */
function merge(items: Video[], updates: Video[]): Video[] {
  const byId = new Map(updates.map((v) => [v.id, v]));
  return items.map((v) => byId.get(v.id) ?? v);
}

export function MyVideos() {
  const { t, bytes } = useI18n();
  usePageTitle(t("mine.title"));
  const api = useApi();
  const fetchPage = useCallback((after: string | null) => api.myVideos(after, PAGE_SIZE), [api]);
  const { items, setItems, cursor, loading, error, setError, load } = usePaged(fetchPage);
  const itemsRef = useRef(items);
  itemsRef.current = items;

  // While any video is still uploading, queued or processing, ask for those again.
  const pending = items.filter((v) => !isFinal(v.status)).map((v) => v.id);
  const pendingKey = pending.join(",");
  useEffect(() => {
    if (!pendingKey) return;
    let stopped = false;
    const timer = window.setTimeout(async () => {
      const ids = pendingKey.split(",");
      const results = await Promise.allSettled(ids.map((id) => api.video(id)));
      if (stopped) return;
      const fresh = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const gone = ids.filter(
        (_, i) =>
          results[i].status === "rejected" &&
          (results[i] as PromiseRejectedResult).reason?.status === 404,
      );
      setItems(merge(itemsRef.current, fresh).filter((v) => !gone.includes(v.id)));
    }, POLL_MS);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, pendingKey, items]);

  const setVisibility = async (video: Video, visibility: Visibility) => {
    try {
      const updated = await api.updateVideo(video.id, { visibility });
      setItems((prev) => merge(prev, [updated]));
    } catch (err) {
      setError(err);
    }
  };

  const remove = async (video: Video) => {
    if (!window.confirm(t("mine.confirmDelete", { title: video.title }))) return;
    try {
      await api.deleteVideo(video.id);
      setItems((prev) => prev.filter((v) => v.id !== video.id));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="mine-title">
      <h1 id="mine-title">{t("mine.title")}</h1>
      <p className="hint" data-testid="mine-count">
        {t("mine.count", { count: items.length })}
      </p>
      <ErrorMessage error={error} />
      {!loading && !error && items.length === 0 && (
        <p>
          {t("mine.empty")} <Link to={PATHS.upload}>{t("nav.upload")}</Link>
        </p>
      )}
      <div className="grid" data-testid="my-videos">
        {items.map((video) => (
          <VideoCard key={video.id} video={video}>
            <p>
              <StatusBadge video={video} /> <span className="hint">{bytes(video.size)}</span>
            </p>
            {video.status === "failed" && video.failure_reason && (
              <p className="error-details" data-testid="failure-reason">
                {video.failure_reason}
              </p>
            )}
            <div className="actions">
              <label className="inline">
                <span className="visually-hidden">{t("mine.visibility")}</span>
                <select
                  value={video.visibility}
                  data-testid="visibility"
                  onChange={(e) => setVisibility(video, e.target.value as Visibility)}
                >
                  <option value="public">{t("visibility.public")}</option>
                  <option value="private">{t("visibility.private")}</option>
                </select>
              </label>
              <button
                type="button"
                className="secondary"
                onClick={() => remove(video)}
                data-testid="delete"
              >
                {t("mine.delete")}
              </button>
            </div>
          </VideoCard>
        ))}
      </div>
      <LoadMore loading={loading} cursor={cursor} onMore={() => load(cursor)} />
    </section>
  );
}
