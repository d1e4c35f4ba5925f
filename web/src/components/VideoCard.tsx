import { useState } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { Video } from "../api/types";
import { useI18n } from "../i18n/I18nProvider";
import { PATHS } from "../lib/paths";

export function Poster({ video }: { video: Video }) {
  // A private video's poster needs a signature the listing does not carry: then a placeholder.
  const [broken, setBroken] = useState(false);
  return video.poster_url && !broken ? (
    <img
      className="poster"
      src={video.poster_url}
      alt=""
      loading="lazy"
      onError={() => setBroken(true)}
    />
  ) : (
    <div className="poster placeholder" aria-hidden="true" />
  );
}

export function VideoCard({ video, children }: { video: Video; children?: ReactNode }) {
  const { t, clock, date } = useI18n();
  const playable = video.status === "ready";
  return (
    <article className="video-card" data-testid="video-card" data-video-id={video.id}>
      {playable ? (
        <Link to={PATHS.watch(video.id)} className="poster-link">
          <Poster video={video} />
          {video.duration != null && <span className="duration">{clock(video.duration)}</span>}
        </Link>
      ) : (
        <Poster video={video} />
      )}
      <div className="video-meta">
        <h3>{playable ? <Link to={PATHS.watch(video.id)}>{video.title}</Link> : video.title}</h3>
        <p className="hint">
          {t("video.byline", { username: video.owner.username, date: date(video.created_at) })}
        </p>
        {children}
      </div>
    </article>
  );
}
