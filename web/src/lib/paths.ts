// Client-side paths; the server sends index.html for them (routes/web.py). None may start with
// an API prefix (auth, videos, uploads, healthz), or a reload there would reach the API.

export const PATHS = {
  gallery: "/",
  signIn: "/signin",
  signUp: "/signup",
  upload: "/upload",
  mine: "/my-videos",
  watch: (id: string) => `/watch/${encodeURIComponent(id)}`,
};

export const API_PREFIXES = ["auth", "videos", "uploads", "healthz"];

/** Where to go after signing in: only a path on this site (no open redirect via ?next=). */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.includes("\\")
    ? next
    : PATHS.mine;
}
