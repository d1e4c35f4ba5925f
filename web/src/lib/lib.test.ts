import { describe, expect, it } from "vitest";
import { API_PREFIXES, PATHS, safeNext } from "./paths";
import { renditions } from "./renditions";

describe("paths", () => {
  it("never start with an API prefix", () => {
    const paths = [
      PATHS.gallery,
      PATHS.signIn,
      PATHS.signUp,
      PATHS.upload,
      PATHS.mine,
      PATHS.watch("x"),
    ];
    for (const path of paths) {
      expect(API_PREFIXES).not.toContain(path.split("/")[1]);
    }
  });

  it("follow ?next= only within the site", () => {
    expect(safeNext("/watch/abc?t=1")).toBe("/watch/abc?t=1");
    expect(safeNext(null)).toBe("/my-videos");
    expect(safeNext("https://evil.example/")).toBe("/my-videos");
    expect(safeNext("//evil.example/")).toBe("/my-videos");
    expect(safeNext("/\\evil.example/")).toBe("/my-videos");
  });
});

describe("renditions", () => {
  it("lists the ladder best first, keeping hls.js's indexes", () => {
    const levels = [
      { height: 240, bitrate: 400_000 },
      { height: 360, bitrate: 800_000 },
      { height: 720, bitrate: 2_800_000 },
      { height: 720, bitrate: 2_000_000 },
    ];
    expect(renditions(levels).map((r) => [r.index, r.height])).toEqual([
      [2, 720],
      [3, 720],
      [1, 360],
      [0, 240],
    ]);
  });
});
