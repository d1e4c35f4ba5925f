import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, memorySessionStore, tokenExpiry, withSignedQuery } from "./client";
import type { Session } from "./types";

const user = {
  id: "u1",
  username: "minji",
  email: "minji@example.kr",
  created_at: "2026-05-20T09:14:03Z",
};

function jwt(exp: number): string {
  const part = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
  return `${part({ alg: "HS256" })}.${part({ sub: "u1", exp })}.sig`;
}

/**
 * A small stand-in for the API: access tokens are valid while listed in `valid`; each refresh
 * token works once, as on the real server, and a reused one is refused.
 */
function fakeServer() {
  const state = {
    valid: new Set<string>(["access-1"]),
    refreshTokens: new Set<string>(["refresh-1"]),
    refreshCalls: 0,
    generation: 1,
    refuseRefresh: false,
    calls: [] as Array<{ path: string; auth: string | null }>,
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const auth = headers.Authorization ?? null;
    state.calls.push({ path: url, auth });
    await Promise.resolve(); // let concurrent callers interleave
    if (url === "/auth/refresh") {
      state.refreshCalls += 1;
      const { refresh_token } = JSON.parse(String(init?.body)) as { refresh_token: string };
      if (state.refuseRefresh || !state.refreshTokens.delete(refresh_token)) {
        return json(401, { error: "invalid_refresh_token", message: "sign in again" });
      }
      state.generation += 1;
      const access = `access-${state.generation}`;
      state.valid = new Set([access]);
      state.refreshTokens.add(`refresh-${state.generation}`);
      return json(200, {
        access_token: access,
        refresh_token: `refresh-${state.generation}`,
        token_type: "Bearer",
        expires_in: 900,
        refresh_expires_in: 2592000,
        user,
      });
    }
    if (url === "/auth/me") {
      const token = auth?.replace(/^Bearer /, "") ?? "";
      if (!state.valid.has(token))
        return json(401, { error: "invalid_token", message: "token has expired" });
      return json(200, user);
    }
    if (url === "/broken") return new Response("<html>bad gateway</html>", { status: 502 });
    return json(404, { error: "not_found", message: "no such route" });
  };
  return { state, fetch };
}

function signedIn(accessToken = "access-1"): Session {
  return { accessToken, refreshToken: "refresh-1", user };
}

describe("ApiClient token refresh", () => {
  it("refreshes once on 401 and repeats the call with the new token", async () => {
    const { state, fetch } = fakeServer();
    state.valid = new Set(["access-2"]); // access-1 has expired
    state.generation = 1;
    const store = memorySessionStore(signedIn());
    const api = new ApiClient({ fetch, store });
    expect(await api.me()).toEqual(user);
    expect(state.refreshCalls).toBe(1);
    expect(store.load()?.accessToken).toBe("access-2");
    expect(store.load()?.refreshToken).toBe("refresh-2");
    expect(state.calls.map((c) => c.auth)).toEqual(["Bearer access-1", null, "Bearer access-2"]);
  });

  it("shares one refresh between calls that fail together", async () => {
    const { state, fetch } = fakeServer();
    state.valid = new Set();
    const api = new ApiClient({ fetch, store: memorySessionStore(signedIn()) });
    const results = await Promise.all([api.me(), api.me(), api.me()]);
    expect(results).toEqual([user, user, user]);
    expect(state.refreshCalls).toBe(1);
  });

  it("does not refresh again when another call already did", async () => {
    const { state, fetch } = fakeServer();
    state.valid = new Set();
    let first = true;
    const api: ApiClient = new ApiClient({
      store: memorySessionStore(signedIn()),
      fetch: async (url, init) => {
        if (url === "/auth/me" && first) {
          // While this call (sent with access-1) is in flight, another one refreshes.
          first = false;
          await api.refresh();
        }
        return fetch(url, init);
      },
    });
    expect(await api.me()).toEqual(user);
    expect(state.refreshCalls).toBe(1);
    expect(state.calls.filter((c) => c.path === "/auth/me").map((c) => c.auth)).toEqual([
      "Bearer access-1",
      "Bearer access-2",
    ]);
  });

  it("signs out when the refresh is refused, and reports the original 401", async () => {
    const { state, fetch } = fakeServer();
    state.valid = new Set();
    state.refuseRefresh = true;
    const store = memorySessionStore(signedIn());
    const api = new ApiClient({ fetch, store });
    const seen: Array<Session | null> = [];
    api.subscribe((s) => seen.push(s));
    const error = await api.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).code).toBe("invalid_token");
    expect(store.load()).toBeNull();
    expect(api.currentSession).toBeNull();
    expect(seen).toEqual([null]);
    expect(state.refreshCalls).toBe(1);
  });

  it("signs out when the repeated call is refused too", async () => {
    const { state, fetch } = fakeServer();
    const api = new ApiClient({
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        if (url === "/auth/me") state.valid = new Set(); // every access token refused
        return url === "/auth/me"
          ? new Response(JSON.stringify({ error: "invalid_token" }), { status: 401 })
          : response;
      },
      store: memorySessionStore(signedIn()),
    });
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
    expect(state.refreshCalls).toBe(1);
    expect(api.currentSession).toBeNull();
  });

  it("does not try to refresh without a session", async () => {
    const { state, fetch } = fakeServer();
    const api = new ApiClient({ fetch, store: memorySessionStore(null) });
    await expect(api.me()).rejects.toMatchObject({ status: 401, code: "invalid_token" });
    expect(state.refreshCalls).toBe(0);
    expect(state.calls[0].auth).toBeNull();
  });

  it("refreshes ahead of time for uploads when the token is about to expire", async () => {
    const { state, fetch } = fakeServer();
    const now = 1_000_000;
    const soon = jwt(now + 10);
    const api = new ApiClient({ fetch, store: memorySessionStore(signedIn(soon)), now: () => now });
    expect(await api.freshAccessToken()).toBe("access-2");
    expect(state.refreshCalls).toBe(1);
    const later = new ApiClient({
      fetch,
      store: memorySessionStore(signedIn(jwt(now + 600))),
      now: () => now,
    });
    expect(await later.freshAccessToken()).toBe(jwt(now + 600));
    expect(state.refreshCalls).toBe(1);
  });
});

describe("ApiClient requests", () => {
  it("signs in by email or username and keeps the session", async () => {
    const bodies: unknown[] = [];
    const api = new ApiClient({
      store: memorySessionStore(),
      fetch: async (_url, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return new Response(
          JSON.stringify({
            access_token: "a",
            refresh_token: "r",
            token_type: "Bearer",
            expires_in: 900,
            refresh_expires_in: 1,
            user,
          }),
          { status: 200 },
        );
      },
    });
    await api.signin("Minji@Example.kr", "pw-123456789");
    await api.signin("minji", "pw-123456789");
    expect(bodies).toEqual([
      { email: "Minji@Example.kr", password: "pw-123456789" },
      { username: "minji", password: "pw-123456789" },
    ]);
    expect(api.currentSession).toEqual({ accessToken: "a", refreshToken: "r", user });
  });

  it("turns error bodies, non-JSON errors and network failures into ApiError", async () => {
    const { fetch } = fakeServer();
    const api = new ApiClient({ fetch, store: memorySessionStore() });
    await expect(api.request("GET", "/nope", { auth: false })).rejects.toMatchObject({
      status: 404,
      code: "not_found",
      message: "no such route",
    });
    await expect(api.request("GET", "/broken", { auth: false })).rejects.toMatchObject({
      status: 502,
      code: "http_502",
    });
    const offline = new ApiClient({
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
      store: memorySessionStore(),
    });
    await expect(offline.healthz()).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("adds a signed query to playback URLs once", () => {
    const q = "Policy=p&Signature=s&Key-Pair-Id=K";
    expect(withSignedQuery("https://cdn/v/720p/seg1.ts", q)).toBe(
      `https://cdn/v/720p/seg1.ts?${q}`,
    );
    expect(withSignedQuery("https://cdn/v/a.m3u8?x=1", q)).toBe(`https://cdn/v/a.m3u8?x=1&${q}`);
    expect(withSignedQuery(`https://cdn/v/a.m3u8?${q}`, q)).toBe(`https://cdn/v/a.m3u8?${q}`);
    expect(withSignedQuery("https://cdn/v/a.m3u8", undefined)).toBe("https://cdn/v/a.m3u8");
  });

  it("reads a JWT's expiry", () => {
    expect(tokenExpiry(jwt(1234))).toBe(1234);
    expect(tokenExpiry("opaque")).toBeNull();
    expect(tokenExpiry("a.!!!.c")).toBeNull();
  });
});
