import { defineConfig } from "vite";

// Relative base: the page works at /ui/ and under any prefix the Outsprint app proxies it from.
export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // One small script and one stylesheet; no inline assets (the worker's CSP allows only same-origin files).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
