import { describe, expect, it } from "vitest";
import { pickLanguage, supported } from "./languages";
import { translate } from "./translate";
import type { Catalog } from "./translate";

const catalogs: Record<"ko" | "en" | "pt-BR", Catalog> = {
  en: { hello: "Hello {name}", files: { one: "{count} file", other: "{count} files" }, only: "en" },
  ko: { hello: "{name} 님", files: { other: "파일 {count}개" } },
  "pt-BR": { hello: "Olá {name}", files: { one: "{count} arquivo", other: "{count} arquivos" } },
};

describe("translate", () => {
  it("fills placeholders and picks plural forms with Intl.PluralRules", () => {
    expect(translate("en", "hello", { name: "Minji" }, catalogs)).toBe("Hello Minji");
    expect(translate("en", "files", { count: 1 }, catalogs)).toBe("1 file");
    expect(translate("en", "files", { count: 2 }, catalogs)).toBe("2 files");
    expect(translate("pt-BR", "files", { count: 1 }, catalogs)).toBe("1 arquivo");
    expect(translate("pt-BR", "files", { count: 0 }, catalogs)).toBe("0 arquivo"); // pt: 0 is "one"
    expect(translate("ko", "files", { count: 1 }, catalogs)).toBe("파일 1개");
  });

  it("prefers an exact =0 form", () => {
    const zero: Record<"ko" | "en" | "pt-BR", Catalog> = {
      ...catalogs,
      "pt-BR": { n: { "=0": "Nenhum vídeo", one: "{count} vídeo", other: "{count} vídeos" } },
    };
    expect(translate("pt-BR", "n", { count: 0 }, zero)).toBe("Nenhum vídeo");
    expect(translate("pt-BR", "n", { count: 1 }, zero)).toBe("1 vídeo");
  });

  it("formats numbers for the language", () => {
    expect(translate("en", "files", { count: 1234 }, catalogs)).toBe("1,234 files");
    expect(translate("pt-BR", "files", { count: 1234 }, catalogs)).toBe("1.234 arquivos");
  });

  it("falls back to English, then to the key", () => {
    expect(translate("ko", "only", {}, catalogs)).toBe("en");
    expect(translate("ko", "missing", {}, catalogs)).toBe("missing");
  });
});

describe("language choice", () => {
  it("prefers the stored choice, then the region's, then the browser's", () => {
    expect(pickLanguage("pt-BR", "ko", ["en-US"])).toBe("pt-BR");
    expect(pickLanguage(null, "ko", ["en-US"])).toBe("ko");
    expect(pickLanguage(null, null, ["fr-FR", "pt-PT"])).toBe("pt-BR");
    expect(pickLanguage("xx", null, [])).toBe("en");
  });

  it("matches tags without regard to case or region", () => {
    expect(supported("KO-kr")).toBe("ko");
    expect(supported("pt_br")).toBe("pt-BR");
    expect(supported("en-GB")).toBe("en");
    expect(supported("ja")).toBeNull();
  });
});
