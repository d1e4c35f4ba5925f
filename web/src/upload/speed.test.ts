import { describe, expect, it } from "vitest";
import { secondsLeft, shouldRetry, SpeedMeter, videoType } from "./speed";

describe("SpeedMeter", () => {
  it("measures over the recent window only", () => {
    const meter = new SpeedMeter(5000);
    expect(meter.bytesPerSecond()).toBe(0);
    meter.add(0, 0);
    meter.add(1000, 1_000_000);
    expect(meter.bytesPerSecond()).toBe(1_000_000);
    // A slow stretch: 10 s later only 100 kB more; the old fast samples drop out.
    for (let t = 2000; t <= 12000; t += 1000)
      meter.add(t, 1_000_000 + ((t - 1000) / 1000) * 10_000);
    expect(meter.bytesPerSecond()).toBeCloseTo(10_000, -2);
  });

  it("starts over when the offset goes back (a restarted upload)", () => {
    const meter = new SpeedMeter();
    meter.add(0, 5_000_000);
    meter.add(1000, 6_000_000);
    meter.add(2000, 100);
    expect(meter.bytesPerSecond()).toBe(0);
  });
});

describe("secondsLeft", () => {
  it("is unknown without a speed", () => {
    expect(secondsLeft(1000, 0)).toBeNull();
    expect(secondsLeft(1000, 100)).toBe(10);
  });
});

describe("shouldRetry", () => {
  it("retries network and server failures, not refusals", () => {
    expect(shouldRetry(null, 0, 5)).toBe(true);
    expect(shouldRetry(503, 2, 5)).toBe(true);
    expect(shouldRetry(409, 0, 5)).toBe(true);
    expect(shouldRetry(429, 0, 5)).toBe(true);
    expect(shouldRetry(413, 0, 5)).toBe(false);
    expect(shouldRetry(403, 0, 5)).toBe(false);
    expect(shouldRetry(503, 5, 5)).toBe(false);
  });

  it("retries a 401 once (after a refresh)", () => {
    expect(shouldRetry(401, 0, 5)).toBe(true);
    expect(shouldRetry(401, 1, 5)).toBe(false);
  });
});

describe("videoType", () => {
  it("keeps the browser's video type, else names it from the extension", () => {
    expect(videoType("a.mp4", "video/mp4")).toBe("video/mp4");
    expect(videoType("Holiday.MKV", "")).toBe("video/x-matroska");
    expect(videoType("clip.ts", "application/typescript")).toBe("video/mp2t");
    expect(videoType("notes.txt", "text/plain")).toBe("text/plain");
    expect(videoType("blob", "")).toBe("application/octet-stream");
  });
});
