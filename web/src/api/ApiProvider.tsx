import { createContext, useContext, useEffect, useState } from "react";
import type { ReactNode } from "react";
import type { ApiClient } from "./client";
import type { Session } from "./types";

const ApiContext = createContext<ApiClient | null>(null);
const SessionContext = createContext<Session | null>(null);

export function ApiProvider({ api, children }: { api: ApiClient; children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(api.currentSession);
  useEffect(() => api.subscribe(setSession), [api]);
  return (
    <ApiContext.Provider value={api}>
      <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
    </ApiContext.Provider>
  );
}

export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside ApiProvider");
  return api;
}

/** The signed-in session, or null; re-renders on sign-in, refresh and sign-out. */
export function useSession(): Session | null {
  return useContext(SessionContext);
}
