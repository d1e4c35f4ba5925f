// Which language to show: the user's stored choice, else the region's (from /healthz), else
// the browser's, else English.

export const LANGUAGES = ["ko", "en", "pt-BR"] as const;
export type Language = (typeof LANGUAGES)[number];
export const STORAGE_KEY = "mediahub.language";

/** Names shown in the switcher, each in its own language. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  ko: "한국어",
  en: "English",
  "pt-BR": "Português (Brasil)",
};

/** The supported language for a BCP 47 tag: exact, then by primary subtag (pt-PT → pt-BR). */
export function supported(tag: string | null | undefined): Language | null {
  if (!tag) return null;
  const lower = tag.toLowerCase();
  const exact = LANGUAGES.find((lang) => lang.toLowerCase() === lower);
  if (exact) return exact;
  const primary = lower.split(/[-_]/)[0];
  return LANGUAGES.find((lang) => lang.toLowerCase().split("-")[0] === primary) ?? null;
}

export function pickLanguage(
  stored: string | null,
  server: string | null,
  browser: readonly string[],
): Language {
  return (
    supported(stored) ??
    supported(server) ??
    browser.map(supported).find((lang): lang is Language => lang !== null) ??
    "en"
  );
}
