import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { ChangeEvent, DragEvent, FormEvent } from "react";
import { Link } from "react-router-dom";
import type * as tus from "tus-js-client";
import { useApi, useSession } from "../api/ApiProvider";
import { ApiError } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { ProgressBar } from "../components/ProgressBar";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";
import { secondsLeft, SpeedMeter } from "../upload/speed";
import { createUpload, forgetUpload, resumeIfKnown, unfinishedUploads } from "../upload/tusUpload";
import { PATHS } from "../lib/paths";

type Phase = "idle" | "uploading" | "paused" | "done" | "failed";

export function Upload() {
  const { t, bytes, speed: fmtSpeed, percent, duration, date } = useI18n();
  usePageTitle(t("upload.title"));
  const api = useApi();
  const session = useSession();
  const userId = session?.user.id ?? "";
  const inputId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [phase, setPhase] = useState<Phase>("idle");
  const [sent, setSent] = useState(0);
  const [speed, setSpeed] = useState(0);
  const [resumed, setResumed] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);
  const [unfinished, setUnfinished] = useState<tus.PreviousUpload[]>([]);
  const uploadRef = useRef<tus.Upload | null>(null);
  const meter = useRef(new SpeedMeter());

  const refreshUnfinished = useCallback(() => {
    unfinishedUploads(userId).then(setUnfinished, () => setUnfinished([]));
  }, [userId]);

  useEffect(() => {
    refreshUnfinished();
    // Leaving the page pauses the upload; the server keeps what it has for the next visit.
    return () => {
      void uploadRef.current?.abort();
    };
  }, [refreshUnfinished]);

  // Closing the tab mid-upload loses nothing (it resumes), but usually is a slip: ask first.
  useEffect(() => {
    if (phase !== "uploading") return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [phase]);

  const choose = (chosen: File | null | undefined) => {
    if (!chosen || phase === "uploading") return;
    void uploadRef.current?.abort();
    uploadRef.current = null;
    setFile(chosen);
    setTitle(chosen.name.replace(/\.[^.]+$/, ""));
    setPhase("idle");
    setSent(0);
    setResumed(false);
    setFailure(null);
  };

  const start = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!file) return;
    setFailure(null);
    meter.current.reset();
    let upload = uploadRef.current;
    if (!upload) {
      upload = createUpload(api, userId, file, title.trim() || file.name, {
        onProgress(bytesSent, total) {
          setSent(bytesSent);
          meter.current.add(performance.now(), bytesSent);
          setSpeed(meter.current.bytesPerSecond());
          if (bytesSent === total) setSpeed(0);
        },
        onSuccess() {
          setPhase("done");
          uploadRef.current = null;
          refreshUnfinished();
        },
        onError(error, status, body) {
          setPhase("failed");
          // A refusal from the API reads like any other API error; anything else (network
          // gone after the retries) keeps tus-js-client's description.
          setFailure(
            status && body
              ? new ApiError(status, body)
              : new ApiError(0, { error: "network_error", message: error.message }),
          );
        },
      });
      uploadRef.current = upload;
      const previous = await resumeIfKnown(upload);
      setResumed(previous !== null);
    }
    setPhase("uploading");
    upload.start();
  };

  const pause = async () => {
    await uploadRef.current?.abort();
    setPhase("paused");
    setSpeed(0);
  };

  const cancel = async () => {
    const upload = uploadRef.current;
    uploadRef.current = null;
    if (upload) await upload.abort(true).catch(() => undefined);
    setFile(null);
    setPhase("idle");
    setSent(0);
    refreshUnfinished();
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files[0]);
  };

  const total = file?.size ?? 0;
  const fraction = total > 0 ? sent / total : 0;
  const left = secondsLeft(total - sent, speed);

  return (
    <section aria-labelledby="upload-title">
      <h1 id="upload-title">{t("upload.title")}</h1>

      <div
        className={`dropzone${dragging ? " dragging" : ""}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>{t("upload.drop")}</p>
        <input
          id={inputId}
          type="file"
          accept="video/*"
          className="visually-hidden"
          data-testid="file-input"
          disabled={phase === "uploading"}
          onChange={(e: ChangeEvent<HTMLInputElement>) => {
            choose(e.target.files?.[0]);
            e.target.value = ""; // so choosing the same file again is noticed
          }}
        />
        <label htmlFor={inputId} className="button secondary">
          {t("upload.choose")}
        </label>
      </div>

      {file && (
        <form className="card" onSubmit={start} data-testid="upload-form">
          <p className="file-name">
            {file.name} · {bytes(file.size)}
          </p>
          <label htmlFor="upload-title-input">{t("upload.videoTitle")}</label>
          <input
            id="upload-title-input"
            value={title}
            maxLength={200}
            disabled={phase !== "idle"}
            onChange={(e) => setTitle(e.target.value)}
          />
          {phase !== "idle" && (
            <div className="upload-progress">
              <ProgressBar value={fraction} label={t("upload.progressLabel")} />
              <p aria-live="polite" data-testid="upload-status">
                {phase === "done"
                  ? t("upload.done")
                  : t("upload.progress", {
                      percent: percent(fraction),
                      sent: bytes(sent),
                      total: bytes(total),
                    })}
                {phase === "uploading" && speed > 0 && ` · ${fmtSpeed(speed)}`}
                {phase === "uploading" &&
                  left !== null &&
                  ` · ${t("upload.left", { time: duration(left) })}`}
                {phase === "paused" && ` · ${t("upload.paused")}`}
              </p>
              {resumed && phase !== "done" && <p className="hint">{t("upload.resuming")}</p>}
            </div>
          )}
          {failure !== null && (
            <div data-testid="upload-error">
              <ErrorMessage error={failure} />
            </div>
          )}
          <div className="actions">
            {(phase === "idle" || phase === "failed") && (
              <button type="submit" data-testid="upload-start">
                {phase === "failed" ? t("upload.retry") : t("upload.start")}
              </button>
            )}
            {phase === "uploading" && (
              <button type="button" onClick={pause} data-testid="upload-pause">
                {t("upload.pause")}
              </button>
            )}
            {phase === "paused" && (
              <button type="submit" data-testid="upload-resume">
                {t("upload.resume")}
              </button>
            )}
            {phase !== "done" && phase !== "idle" && (
              <button type="button" className="secondary" onClick={cancel}>
                {t("upload.cancel")}
              </button>
            )}
            {phase === "done" && (
              <Link to={PATHS.mine} className="button" data-testid="upload-to-mine">
                {t("upload.toMine")}
              </Link>
            )}
          </div>
        </form>
      )}

      {unfinished.length > 0 && (
        <section className="card" aria-labelledby="unfinished-title" data-testid="unfinished">
          <h2 id="unfinished-title">{t("upload.unfinished", { count: unfinished.length })}</h2>
          <p className="hint">{t("upload.unfinishedHint")}</p>
          <ul className="plain">
            {unfinished.map((item) => (
              <li key={item.urlStorageKey}>
                <span>
                  {item.metadata.filename ?? "?"}
                  {item.size !== null && ` · ${bytes(item.size)}`} · {date(item.creationTime)}
                </span>{" "}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => forgetUpload(api, item).then(refreshUnfinished)}
                >
                  {t("upload.forget")}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}
