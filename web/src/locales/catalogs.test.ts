import { describe, expect, it } from "vitest";
import { LANGUAGES } from "../i18n/languages";
import { CATALOGS } from "../i18n/translate";
import type { Message } from "../i18n/translate";

const keys = (lang: (typeof LANGUAGES)[number]) => Object.keys(CATALOGS[lang]).sort();
const placeholders = (message: Message) =>
  [
    ...new Set(
      (typeof message === "string" ? [message] : Object.values(message))
        .join(" ")
        .match(/\{\w+\}/g) ?? [],
    ),
  ].sort();

describe("message catalogs", () => {
  it("have exactly the same keys in every language", () => {
    for (const lang of LANGUAGES) expect(keys(lang), lang).toEqual(keys("en"));
  });

  it("have no empty messages", () => {
    for (const lang of LANGUAGES) {
      for (const [key, message] of Object.entries(CATALOGS[lang])) {
        const texts = typeof message === "string" ? [message] : Object.values(message);
        expect(texts.length, `${lang} ${key}`).toBeGreaterThan(0);
        for (const text of texts) expect(text.trim(), `${lang} ${key}`).not.toBe("");
      }
    }
  });

  it("use the same placeholders as English", () => {
    for (const lang of LANGUAGES) {
      for (const [key, message] of Object.entries(CATALOGS[lang])) {
        expect(placeholders(message), `${lang} ${key}`).toEqual(placeholders(CATALOGS.en[key]));
      }
    }
  });

  it("give every plural form the language uses for whole numbers, and no others", () => {
    const counts = [0, 1, 2, 3, 5, 11, 21, 100, 1000, 1_000_000];
    for (const lang of LANGUAGES) {
      const rules = new Intl.PluralRules(lang);
      const used = new Set(counts.map((n) => rules.select(n)));
      const allowed = new Set<string>([...rules.resolvedOptions().pluralCategories, "=0"]);
      for (const [key, message] of Object.entries(CATALOGS[lang])) {
        if (typeof message === "string") continue;
        for (const category of used)
          expect(message[category], `${lang} ${key} ${category}`).toBeTruthy();
        for (const category of Object.keys(message))
          expect(allowed.has(category), `${lang} ${key} ${category}`).toBe(true);
      }
    }
  });
});
