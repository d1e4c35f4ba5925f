export interface Rendition {
  index: number; // hls.js's level index
  height: number;
  bitrate: number;
}

/** Renditions for the quality menu, best first (hls.js keeps its levels by rising bitrate). */
export function renditions(
  levels: ReadonlyArray<{ height: number; bitrate: number }>,
): Rendition[] {
  return levels
    .map((level, index) => ({ index, height: level.height, bitrate: level.bitrate }))
    .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
}
