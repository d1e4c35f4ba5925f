import Hls from "hls.js";
import { useEffect, useId, useRef, useState } from "react";
import { withSignedQuery } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import { renditions } from "../lib/renditions";
import type { Rendition } from "../lib/renditions";

const AUTO = -1;
const MAX_RECOVERIES = 3;

/**
 * HLS playback: hls.js where Media Source Extensions exist (which gives the quality menu),
 * otherwise the browser's own HLS (Safari on iOS), which picks the rendition itself. Seeking
 * is the browser's: segments are fetched by URL, the source file by range requests. A private
 * video's requests carry the signed query (hls.js) or the signed cookies (native HLS).
 */
export function Player({
  src,
  poster,
  title,
  signedQuery,
}: {
  src: string;
  poster?: string | null;
  title: string;
  /** For a private video: added to every playlist and segment URL hls.js fetches. */
  signedQuery?: string;
}) {
  const { t, bitrate } = useI18n();
  const videoRef = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  const selectId = useId();
  const [levels, setLevels] = useState<Rendition[]>([]);
  const [selected, setSelected] = useState(AUTO);
  const [current, setCurrent] = useState<number | null>(null);
  const [native, setNative] = useState(false);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    setLevels([]);
    setSelected(AUTO);
    setCurrent(null);
    setFailed(false);
    if (Hls.isSupported()) {
      const hls = new Hls({
        // Opening the request here replaces hls.js's own open with the signed URL.
        xhrSetup: signedQuery
          ? (xhr, url) => xhr.open("GET", withSignedQuery(url, signedQuery), true)
          : undefined,
      });
      let recoveries = 0;
      hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => setLevels(renditions(data.levels)));
      hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => setCurrent(data.level));
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        if (recoveries < MAX_RECOVERIES && data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          recoveries += 1;
          hls.recoverMediaError();
        } else if (recoveries < MAX_RECOVERIES && data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          recoveries += 1;
          hls.startLoad();
        } else {
          setFailed(true);
          hls.destroy();
          hlsRef.current = null;
        }
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      hlsRef.current = hls;
      setNative(false);
      return () => {
        hls.destroy();
        hlsRef.current = null;
      };
    }
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      setNative(true);
      return () => {
        video.removeAttribute("src");
        video.load();
      };
    }
    setFailed(true);
    return undefined;
  }, [src, signedQuery]);

  const choose = (index: number) => {
    setSelected(index);
    // currentLevel switches now (flushing the buffer); -1 hands the choice back to ABR.
    if (hlsRef.current) hlsRef.current.currentLevel = index;
  };

  const playing = levels.find((level) => level.index === current);
  return (
    <div className="player">
      <video
        ref={videoRef}
        controls
        playsInline
        preload="metadata"
        poster={poster ?? undefined}
        aria-label={title}
        data-testid="player"
      />
      {failed && (
        <p role="alert" className="error">
          {t("watch.cannotPlay")}
        </p>
      )}
      {!native && levels.length > 0 && (
        <div className="quality">
          <label htmlFor={selectId}>{t("watch.quality")}</label>
          <select
            id={selectId}
            value={selected}
            data-testid="quality"
            onChange={(e) => choose(Number(e.target.value))}
          >
            <option value={AUTO}>
              {playing && selected === AUTO
                ? t("watch.autoPlaying", { height: String(playing.height) })
                : t("watch.auto")}
            </option>
            {levels.map((level) => (
              <option key={level.index} value={level.index}>
                {t("watch.rendition", {
                  height: String(level.height),
                  bitrate: bitrate(level.bitrate),
                })}
              </option>
            ))}
          </select>
        </div>
      )}
    </div>
  );
}
