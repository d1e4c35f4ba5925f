/// <reference types="vitest" />
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The bundle goes into the Python package, which serves it (routes/web.py); never edit it there.
const outDir = fileURLToPath(new URL("../src/openfront/mediahub/webapp", import.meta.url));

// `npm run dev` proxies the API to a running `openfront mediahub` (MEDIAHUB_API overrides).
const api = process.env.MEDIAHUB_API ?? "http://127.0.0.1:8201";
const proxy = Object.fromEntries(
  ["/auth", "/videos", "/uploads", "/healthz"].map((prefix) => [prefix, { target: api }]),
);

export default defineConfig({
  plugins: [react()],
  // hls.js alone is ~600 kB; it loads only with the watch page.
  build: { outDir, emptyOutDir: true, assetsDir: "assets", chunkSizeWarningLimit: 700 },
  server: { proxy },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
