import { defineConfig } from 'vitest/config';

// Tauri embeds ui/dist; everything must load from relative paths with no
// external resources (the app runs offline).
export default defineConfig({
  base: './',
  clearScreen: false,
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebView2 (Windows) and WebKitGTK/WKWebView (Linux/macOS).
    target: ['es2021', 'chrome105', 'safari13'],
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
});
