// Upload speed over a sliding window, the time left at that speed, the retry policy and the
// content type sent for a file.

export class SpeedMeter {
  private samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly windowMs = 5000) {}

  /** Record that `bytes` in total have been sent at time `at` (ms). */
  add(at: number, bytes: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last.bytes) this.samples = []; // restarted from a lower offset
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1].at >= this.windowMs) {
      this.samples.shift();
    }
  }

  /** Bytes per second over the window; 0 until two samples are far enough apart. */
  bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 250) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  reset(): void {
    this.samples = [];
  }
}

/** Seconds left to send `remaining` bytes at `speed` bytes/s; null when it cannot be told. */
export function secondsLeft(remaining: number, speed: number): number | null {
  return speed > 0 && remaining >= 0 ? remaining / speed : null;
}

/**
 * Whether tus-js-client should try a failed request again: network failures, server errors,
 * 409 (offset mismatch: it re-reads the offset), 423 (locked) and 429, and one retry of a 401
 * after the token is refreshed. Other 4xx (too large, quota, bad type) are final.
 */
export function shouldRetry(status: number | null, attempt: number, maxAttempts: number): boolean {
  if (attempt >= maxAttempts) return false;
  if (status === null || status === 0) return true;
  if (status === 401) return attempt === 0;
  return status >= 500 || status === 409 || status === 423 || status === 429;
}

// Browsers leave File.type empty for some containers (often .mkv, .ts); the API accepts only
// video/* types, so those are named from the extension.
const VIDEO_TYPES: Record<string, string> = {
  mp4: "video/mp4",
  m4v: "video/x-m4v",
  mov: "video/quicktime",
  mkv: "video/x-matroska",
  webm: "video/webm",
  avi: "video/x-msvideo",
  mpg: "video/mpeg",
  mpeg: "video/mpeg",
  ts: "video/mp2t",
  "3gp": "video/3gpp",
  ogv: "video/ogg",
};

export function videoType(name: string, browserType: string): string {
  if (browserType.startsWith("video/")) return browserType;
  const ext = name.toLowerCase().split(".").pop() ?? "";
  return VIDEO_TYPES[ext] ?? (browserType || "application/octet-stream");
}
