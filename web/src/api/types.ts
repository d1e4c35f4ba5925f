// Shapes of the MediaHub API (docs/mediahub.md).

export interface User {
  id: string;
  username: string;
  email: string;
  created_at: string;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
}

export interface SigninResponse extends Tokens {
  user: User;
}

/** What the app keeps between page loads: the tokens and who they belong to. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  user: User;
}

export type VideoStatus = "uploading" | "queued" | "processing" | "ready" | "failed";
export type Visibility = "public" | "private";

export interface Video {
  id: string;
  title: string;
  filename: string;
  key: string;
  region: string;
  status: VideoStatus;
  progress: number;
  failure_reason: string | null;
  size: number;
  content_type: string;
  visibility: Visibility;
  created_at: string;
  owner: { id: string; username: string };
  duration?: number | null;
  poster_url?: string | null;
  hls_url?: string | null;
}

/** `POST /videos/{id}/playback`: the CDN URLs, signed (cookies and a query) when private. */
export interface Playback {
  visibility: Visibility;
  hls_url: string;
  poster_url: string | null;
  thumbnails_url?: string | null;
  signed: boolean;
  expires_at?: string;
  signed_query?: string;
  signed_urls?: Partial<Record<"hls_url" | "poster_url" | "thumbnails_url", string>>;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Health {
  status: string;
  region: string;
  language?: string;
}

export interface ErrorBody {
  error: string;
  message?: string;
  field?: string;
  reasons?: string[];
  retry_after?: number;
}

export const FINAL_STATUSES: readonly VideoStatus[] = ["ready", "failed"];

export function isFinal(status: VideoStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
