import { ApiError } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import type { MessageKey } from "../i18n/translate";

// Known error codes get a sentence in the user's language; the server's own (English) message
// is shown under it for anything more specific, such as which password rule was broken.
const KNOWN: Record<string, MessageKey> = {
  network_error: "error.network",
  invalid_credentials: "error.invalidCredentials",
  too_many_attempts: "error.tooManyAttempts",
  unauthorized: "error.sessionExpired",
  invalid_token: "error.sessionExpired",
  invalid_refresh_token: "error.sessionExpired",
  not_found: "error.notFound",
  forbidden: "error.forbidden",
  file_too_large: "error.tooLarge",
  quota_exceeded: "error.quota",
  unsupported_type: "error.unsupportedType",
  not_ready: "error.notReady",
  playback_not_configured: "error.playbackUnavailable",
  signing_not_configured: "error.playbackUnavailable",
  signing_unavailable: "error.playbackUnavailable",
  storage_not_configured: "error.uploadsOff",
};

export function errorKey(error: unknown): MessageKey {
  if (error instanceof ApiError) {
    if (error.code === "conflict" && error.field === "username") return "error.usernameTaken";
    if (error.code === "conflict" && error.field === "email") return "error.emailTaken";
    if (error.code === "invalid_field" && error.field === "password") return "error.badPassword";
    if (error.code === "invalid_field" && error.field === "username") return "error.badUsername";
    if (error.code === "invalid_field" && error.field === "email") return "error.badEmail";
    return KNOWN[error.code] ?? "error.generic";
  }
  return "error.generic";
}

export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  const details =
    error instanceof ApiError
      ? (error.body.reasons ?? (error.body.message ? [error.body.message] : []))
      : [String(error)];
  const retry = error instanceof ApiError ? error.body.retry_after : undefined;
  return (
    <div role="alert" className="error" data-testid="error">
      <p>
        {t(errorKey(error))}
        {retry !== undefined && ` ${t("error.retryAfter", { count: retry })}`}
      </p>
      {details.length > 0 && (
        <ul className="error-details" lang="en">
          {details.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
