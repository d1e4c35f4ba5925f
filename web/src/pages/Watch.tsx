import { useEffect, useState } from "react";
import { useParams } from "react-router-dom";
import { useApi } from "../api/ApiProvider";
import { ApiError } from "../api/client";
import { isFinal } from "../api/types";
import type { Playback, Video } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { Player } from "../components/Player";
import { StatusBadge } from "../components/StatusBadge";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";

const POLL_MS = 3000;

/** Where to play: the API's playback answer, or the listing's URLs where it has none. */
async function playbackFor(api: ReturnType<typeof useApi>, video: Video): Promise<Playback | null> {
  try {
    return await api.playback(video.id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 503 && video.hls_url) {
      return {
        visibility: video.visibility,
        hls_url: video.hls_url,
        poster_url: video.poster_url ?? null,
        signed: false,
      };
    }
    throw err;
  }
}

export function Watch() {
  const { id = "" } = useParams();
  const { t, date, clock, bytes } = useI18n();
  const [titleText, setTitleText] = useState("");
  usePageTitle(titleText);
  const api = useApi();
  const [video, setVideo] = useState<Video | null>(null);
  const [playback, setPlayback] = useState<Playback | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    setPlayback(null);
    const load = async () => {
      try {
        const fresh = await api.video(id);
        if (stopped) return;
        setVideo(fresh);
        setTitleText(fresh.title);
        setError(null);
        if (fresh.status === "ready") {
          const where = await playbackFor(api, fresh);
          if (!stopped) setPlayback(where);
        } else if (!isFinal(fresh.status)) {
          timer = window.setTimeout(load, POLL_MS);
        }
      } catch (err) {
        if (!stopped) setError(err);
      }
    };
    void load();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, id]);

  if (error && !video) return <ErrorMessage error={error} />;
  if (!video) return <p role="status">{t("common.loading")}</p>;
  const signed = playback?.signed_urls ?? {};
  return (
    <article className="watch" aria-labelledby="watch-title">
      {playback ? (
        <Player
          src={signed.hls_url ?? playback.hls_url}
          poster={signed.poster_url ?? playback.poster_url}
          title={video.title}
          signedQuery={playback.signed ? playback.signed_query : undefined}
        />
      ) : (
        <div className="card">
          <StatusBadge video={video} />
          {video.failure_reason && <p className="error-details">{video.failure_reason}</p>}
          <ErrorMessage error={error} />
        </div>
      )}
      <h1 id="watch-title">{video.title}</h1>
      <p className="hint">
        {t("video.byline", { username: video.owner.username, date: date(video.created_at) })}
        {video.duration != null && ` · ${clock(video.duration)}`} · {bytes(video.size)} ·{" "}
        {t(video.visibility === "public" ? "visibility.public" : "visibility.private")}
      </p>
    </article>
  );
}
