// Resumable uploads through the API's tus 1.0 endpoint. tus-js-client remembers each upload's
// URL in localStorage under a fingerprint of the file, so after a reload (or a dropped
// connection) picking the same file again continues from the offset the server reports.

import * as tus from "tus-js-client";
import type { ApiClient } from "../api/client";
import type { ErrorBody } from "../api/types";
import { shouldRetry, videoType } from "./speed";

export const TUS_ENDPOINT = "/uploads/";
const CHUNK_SIZE = 8 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000];

export interface UploadCallbacks {
  onProgress(sent: number, total: number): void;
  onSuccess(): void;
  /** The HTTP status and the API's JSON error body when the server refused (else nulls). */
  onError(error: Error, status: number | null, body: ErrorBody | null): void;
}

/** The part of the fingerprint naming the user, so accounts sharing a browser stay apart. */
export function userPrefix(userId: string): string {
  return `mediahub-${userId}-`;
}

function fingerprintFor(userId: string) {
  return async (file: File | Blob, options: tus.UploadOptions): Promise<string> => {
    const named = file as Partial<File>;
    return [
      userPrefix(userId) + (named.name ?? "blob"),
      file.type,
      file.size,
      named.lastModified ?? 0,
      options.endpoint,
    ].join("-");
  };
}

export function createUpload(
  api: ApiClient,
  userId: string,
  file: File,
  title: string,
  callbacks: UploadCallbacks,
): tus.Upload {
  const upload: tus.Upload = new tus.Upload(file, {
    endpoint: TUS_ENDPOINT,
    chunkSize: CHUNK_SIZE,
    retryDelays: RETRY_DELAYS,
    metadata: { filename: file.name, filetype: videoType(file.name, file.type), title },
    fingerprint: fingerprintFor(userId) as tus.UploadOptions["fingerprint"],
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onBeforeRequest: async (req) => {
      const token = await api.freshAccessToken();
      if (token) req.setHeader("Authorization", `Bearer ${token}`);
    },
    onShouldRetry: (err, attempt) => {
      const status = err.originalResponse?.getStatus() ?? null;
      if (status === 401) void api.refresh();
      return shouldRetry(status, attempt, RETRY_DELAYS.length);
    },
    onProgress: callbacks.onProgress,
    onSuccess: () => callbacks.onSuccess(),
    onError: (err) => {
      const response = (err as tus.DetailedError).originalResponse ?? null;
      callbacks.onError(err, response?.getStatus() ?? null, errorBody(response));
    },
  });
  return upload;
}

function errorBody(response: tus.HttpResponse | null): ErrorBody | null {
  try {
    const body = JSON.parse(response?.getBody() ?? "") as Partial<ErrorBody>;
    return typeof body.error === "string" ? (body as ErrorBody) : null;
  } catch {
    return null;
  }
}

/** Continue a previous upload of this file if the browser remembers one; true if so. */
export async function resumeIfKnown(upload: tus.Upload): Promise<tus.PreviousUpload | null> {
  const previous = await upload.findPreviousUploads();
  const latest = previous.sort((a, b) => b.creationTime.localeCompare(a.creationTime))[0];
  if (!latest) return null;
  upload.resumeFromPreviousUpload(latest);
  return latest;
}

/** Unfinished uploads of this user that the browser remembers (to offer resuming). */
export async function unfinishedUploads(userId: string): Promise<tus.PreviousUpload[]> {
  if (!tus.canStoreURLs) return [];
  const all = await tus.defaultOptions.urlStorage.findAllUploads();
  return all.filter((u) => u.urlStorageKey.includes(`::${userPrefix(userId)}`));
}

/** Drop a remembered upload: terminate it on the server (best effort) and forget its URL. */
export async function forgetUpload(api: ApiClient, previous: tus.PreviousUpload): Promise<void> {
  if (previous.uploadUrl) {
    try {
      await tus.Upload.terminate(previous.uploadUrl, {
        retryDelays: [],
        onBeforeRequest: async (req) => {
          const token = await api.freshAccessToken();
          if (token) req.setHeader("Authorization", `Bearer ${token}`);
        },
      });
    } catch {
      // Already gone, or the server cleans it up when it expires.
    }
  }
  await tus.defaultOptions.urlStorage.removeUpload(previous.urlStorageKey);
}
