// Messages from the catalogs: "{name}" placeholders, and plural forms chosen by
// Intl.PluralRules from the "count" parameter ({"one": …, "other": …}), with an optional
// exact "=0" form (as in ICU MessageFormat) for "No videos" rather than "0 videos".

import en from "../locales/en.json";
import ko from "../locales/ko.json";
import ptBR from "../locales/pt-BR.json";
import type { Language } from "./languages";

export type PluralForms = Partial<Record<Intl.LDMLPluralRule | "=0", string>> & { other: string };
export type Message = string | PluralForms;
export type Catalog = Record<string, Message>;
export type Params = Record<string, string | number>;

export const CATALOGS: Record<Language, Catalog> = {
  ko: ko as Catalog,
  en: en as Catalog,
  "pt-BR": ptBR as Catalog,
};

export type MessageKey = keyof typeof en;

export function translate(
  lang: Language,
  key: string,
  params: Params = {},
  catalogs: Record<Language, Catalog> = CATALOGS,
): string {
  const message = catalogs[lang][key] ?? catalogs.en[key];
  if (message === undefined) return key;
  let text: string;
  if (typeof message === "string") {
    text = message;
  } else {
    const count = Number(params.count ?? 0);
    text =
      (count === 0 ? message["=0"] : undefined) ??
      message[new Intl.PluralRules(lang).select(count)] ??
      message.other;
  }
  const numbers = new Intl.NumberFormat(lang);
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? numbers.format(value) : value;
  });
}
