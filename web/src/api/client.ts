// The API client: JSON in and out, the bearer token on every private call, and one refresh
// when a call comes back 401 (then the call is repeated once; a refused refresh signs out).

import type {
  ErrorBody,
  Health,
  Page,
  Playback,
  Session,
  SigninResponse,
  User,
  Video,
  Visibility,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody) {
    super(body.message ?? body.error);
    this.name = "ApiError";
    this.status = status;
    this.code = body.error;
    this.field = body.field;
    this.body = body;
  }
}

/** Where the session lives; `localSessionStore` in the browser, a plain object in tests. */
export interface SessionStore {
  load(): Session | null;
  save(session: Session | null): void;
}

export function localSessionStore(storage: Storage, key = "mediahub.session"): SessionStore {
  return {
    load() {
      try {
        const raw = storage.getItem(key);
        const value = raw ? (JSON.parse(raw) as Session) : null;
        return value?.accessToken && value.refreshToken && value.user ? value : null;
      } catch {
        return null;
      }
    },
    save(session) {
      if (session) storage.setItem(key, JSON.stringify(session));
      else storage.removeItem(key);
    },
  };
}

export function memorySessionStore(initial: Session | null = null): SessionStore {
  let value = initial;
  return {
    load: () => value,
    save: (session) => {
      value = session;
    },
  };
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: Fetch;
  store: SessionStore;
  /** Seconds before expiry at which `freshAccessToken` refreshes ahead of time. */
  refreshMargin?: number;
  now?: () => number;
}

interface RequestOptions {
  body?: unknown;
  auth?: boolean;
  signal?: AbortSignal;
}

type Listener = (session: Session | null) => void;

/** Seconds since the epoch at which a JWT expires, or null if it cannot be read. */
export function tokenExpiry(token: string): number | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: Fetch;
  private readonly store: SessionStore;
  private readonly refreshMargin: number;
  private readonly now: () => number;
  private session: Session | null;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl ?? "";
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.store = options.store;
    this.refreshMargin = options.refreshMargin ?? 30;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.session = this.store.load();
  }

  get currentSession(): Session | null {
    return this.session;
  }

  /** Called with the new session after sign-in, refresh and sign-out (null). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setSession(session: Session | null): void {
    this.session = session;
    this.store.save(session);
    for (const listener of this.listeners) listener(session);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    const sent = this.session?.accessToken ?? null;
    let response = await this.send(method, path, options, auth ? sent : null);
    if (response.status === 401 && auth && this.session) {
      // Another call may have refreshed meanwhile: then just retry with its token.
      const renewed = this.session.accessToken !== sent || (await this.refresh());
      if (!renewed || !this.session) throw await this.errorFrom(response);
      response = await this.send(method, path, options, this.session.accessToken);
      if (response.status === 401) this.setSession(null);
    }
    if (!response.ok) throw await this.errorFrom(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, { error: "network_error", message: String(err) });
    }
  }

  private async errorFrom(response: Response): Promise<ApiError> {
    let body: ErrorBody = { error: `http_${response.status}` };
    try {
      const parsed = (await response.json()) as Partial<ErrorBody>;
      if (typeof parsed.error === "string") body = parsed as ErrorBody;
    } catch {
      // Not JSON (a proxy's error page): keep the status-only code.
    }
    return new ApiError(response.status, body);
  }

  /**
   * Trade the refresh token for new tokens; concurrent callers share one exchange (a refresh
   * token works once: a second exchange would look like theft and revoke the session).
   * False, and signed out, when the server refuses.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.exchange().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async exchange(): Promise<boolean> {
    const session = this.session;
    if (!session) return false;
    let response: Response;
    try {
      response = await this.send(
        "POST",
        "/auth/refresh",
        {
          body: { refresh_token: session.refreshToken },
        },
        null,
      );
    } catch {
      return false; // offline: keep the session, the next call tries again
    }
    if (!response.ok) {
      if (response.status === 400 || response.status === 401) this.setSession(null);
      return false;
    }
    const tokens = (await response.json()) as SigninResponse;
    this.setSession(sessionFrom(tokens));
    return true;
  }

  /** The access token, refreshed first if it expires within the margin (for tus uploads). */
  async freshAccessToken(): Promise<string | null> {
    const token = this.session?.accessToken;
    if (!token) return null;
    const exp = tokenExpiry(token);
    if (exp !== null && exp - this.now() < this.refreshMargin) await this.refresh();
    return this.session?.accessToken ?? null;
  }

  // --- accounts ---

  async signup(username: string, email: string, password: string): Promise<User> {
    return this.request<User>("POST", "/auth/signup", {
      body: { username, email, password },
      auth: false,
    });
  }

  async signin(login: string, password: string): Promise<User> {
    const field = login.includes("@") ? "email" : "username";
    const tokens = await this.request<SigninResponse>("POST", "/auth/signin", {
      body: { [field]: login, password },
      auth: false,
    });
    this.setSession(sessionFrom(tokens));
    return tokens.user;
  }

  async signout(): Promise<void> {
    const session = this.session;
    this.setSession(null);
    if (!session) return;
    try {
      await this.request("POST", "/auth/signout", {
        body: { refresh_token: session.refreshToken },
        auth: false,
      });
    } catch {
      // Signed out locally either way; the server forgets the token when it expires.
    }
  }

  me(): Promise<User> {
    return this.request<User>("GET", "/auth/me");
  }

  healthz(): Promise<Health> {
    return this.request<Health>("GET", "/healthz", { auth: false });
  }

  // --- videos ---

  myVideos(cursor: string | null, limit = 20): Promise<Page<Video>> {
    return this.request<Page<Video>>("GET", `/videos${pageQuery(cursor, limit)}`);
  }

  publicVideos(cursor: string | null, limit = 12): Promise<Page<Video>> {
    return this.request<Page<Video>>("GET", `/videos/public${pageQuery(cursor, limit)}`, {
      auth: this.session !== null,
    });
  }

  video(id: string): Promise<Video> {
    return this.request<Video>("GET", `/videos/${encodeURIComponent(id)}`, {
      auth: this.session !== null,
    });
  }

  /** Where to play a ready video; for a private one also sets the CDN's signed cookies. */
  playback(id: string): Promise<Playback> {
    return this.request<Playback>("POST", `/videos/${encodeURIComponent(id)}/playback`, {
      auth: this.session !== null,
    });
  }

  updateVideo(id: string, changes: { title?: string; visibility?: Visibility }): Promise<Video> {
    return this.request<Video>("PATCH", `/videos/${encodeURIComponent(id)}`, { body: changes });
  }

  deleteVideo(id: string): Promise<void> {
    return this.request<void>("DELETE", `/videos/${encodeURIComponent(id)}`);
  }
}

function sessionFrom(tokens: SigninResponse): Session {
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    user: tokens.user,
  };
}

/** `url` with a signed query (Policy, Signature, Key-Pair-Id) added, unless it has one. */
export function withSignedQuery(url: string, query: string | undefined): string {
  if (!query || /[?&]Signature=/.test(url)) return url;
  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}

export function pageQuery(cursor: string | null, limit: number): string {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set("cursor", cursor);
  return `?${params.toString()}`;
}
