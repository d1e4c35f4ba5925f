import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import type { ApiClient } from "../api/client";
import * as format from "./format";
import { pickLanguage, STORAGE_KEY } from "./languages";
import type { Language } from "./languages";
import { translate } from "./translate";
import type { MessageKey, Params } from "./translate";

export interface I18n {
  lang: Language;
  setLang(lang: Language): void;
  t(key: MessageKey, params?: Params): string;
  bytes(n: number): string;
  speed(bytesPerSecond: number): string;
  percent(fraction: number): string;
  clock(seconds: number): string;
  duration(seconds: number): string;
  date(iso: string): string;
  bitrate(bitsPerSecond: number): string;
}

const I18nContext = createContext<I18n | null>(null);

function storedChoice(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

// Before /healthz answers, wait this long at most (so the page does not flash in another language).
const REGION_WAIT_MS = 1500;

export function I18nProvider({ api, children }: { api: ApiClient; children: ReactNode }) {
  const [lang, setLangState] = useState<Language | null>(() =>
    storedChoice() ? pickLanguage(storedChoice(), null, navigator.languages) : null,
  );

  useEffect(() => {
    if (lang !== null) return;
    let settled = false;
    const settle = (server: string | null) => {
      if (settled) return;
      settled = true;
      setLangState(pickLanguage(storedChoice(), server, navigator.languages));
    };
    const timer = window.setTimeout(() => settle(null), REGION_WAIT_MS);
    api
      .healthz()
      .then((health) => settle(health.language ?? null))
      .catch(() => settle(null))
      .finally(() => window.clearTimeout(timer));
  }, [api, lang]);

  const setLang = useCallback((next: Language) => {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
    setLangState(next);
  }, []);

  const value = useMemo<I18n | null>(() => {
    if (lang === null) return null;
    return {
      lang,
      setLang,
      t: (key, params) => translate(lang, key, params),
      bytes: (n) => format.formatBytes(n, lang),
      speed: (n) => format.formatSpeed(n, lang),
      percent: (n) => format.formatPercent(n, lang),
      clock: (n) => format.formatClock(n, lang),
      duration: (n) => format.formatDuration(n, lang),
      date: (iso) => format.formatDate(iso, lang),
      bitrate: (n) => format.formatBitrate(n, lang),
    };
  }, [lang, setLang]);

  useEffect(() => {
    if (value) document.documentElement.lang = value.lang;
  }, [value]);

  if (!value) return null;
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}

/** The tab's title for a page, in the current language ("Upload a video · MediaHub"). */
export function usePageTitle(title: string): void {
  const { t } = useI18n();
  const name = t("app.name");
  useEffect(() => {
    document.title = title ? `${title} · ${name}` : name;
  }, [title, name]);
}
