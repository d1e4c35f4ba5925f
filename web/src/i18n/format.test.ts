import { describe, expect, it } from "vitest";
import {
  formatBitrate,
  formatBytes,
  formatClock,
  formatDate,
  formatDuration,
  formatPercent,
  formatSpeed,
} from "./format";

// Intl output uses narrow/no-break spaces in places; compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("formatting", () => {
  it("sizes in decimal units", () => {
    expect(plain(formatBytes(0, "en"))).toBe("0 byte");
    expect(plain(formatBytes(999, "en"))).toBe("999 byte");
    expect(plain(formatBytes(1_500, "en"))).toBe("1.5 kB");
    expect(plain(formatBytes(1_234_567, "en"))).toBe("1.2 MB");
    expect(plain(formatBytes(1_234_567, "pt-BR"))).toBe("1,2 MB");
    expect(plain(formatBytes(250_000_000_000, "en"))).toBe("250 GB");
  });

  it("speeds", () => {
    expect(plain(formatSpeed(3_400_000, "en"))).toBe("3.4 MB/s");
    expect(plain(formatSpeed(3_400_000, "pt-BR"))).toBe("3,4 MB/s");
  });

  it("percentages, clamped", () => {
    expect(plain(formatPercent(0.425, "en"))).toBe("43%");
    expect(plain(formatPercent(1.5, "en"))).toBe("100%");
    expect(plain(formatPercent(-1, "ko"))).toBe("0%");
    expect(plain(formatPercent(0.5, "pt-BR"))).toBe("50%");
  });

  it("media clocks", () => {
    expect(formatClock(0, "en")).toBe("0:00");
    expect(formatClock(83.9, "en")).toBe("1:23");
    expect(formatClock(3723, "ko")).toBe("1:02:03");
  });

  it("durations in the largest sensible unit", () => {
    expect(plain(formatDuration(45, "en"))).toBe("45 sec");
    expect(plain(formatDuration(150, "en"))).toBe("3 min");
    expect(plain(formatDuration(5400, "en"))).toBe("1.5 hr");
    expect(plain(formatDuration(150, "ko"))).toBe("3분");
  });

  it("dates in the language's style", () => {
    // Exact strings vary a little between ICU versions (Node 18 and 20); the order does not.
    const iso = "2026-05-20T09:14:03Z";
    expect(plain(formatDate(iso, "en", "UTC"))).toMatch(/^May 20, 2026,? (at )?9:14 AM$/);
    expect(plain(formatDate(iso, "pt-BR", "UTC"))).toMatch(/^20 de mai\.? de 2026,? 09:14$/);
    expect(plain(formatDate(iso, "ko", "UTC"))).toMatch(/^2026\. 5\. 20\. (오전|AM) 9:14$/);
    expect(formatDate("not a date", "en")).toBe("not a date");
  });

  it("bitrates", () => {
    expect(plain(formatBitrate(800_000, "en"))).toBe("800 kb/s");
    expect(plain(formatBitrate(2_500_000, "en"))).toBe("2.5 Mb/s");
  });
});
