import path from 'node:path';
import { defineConfig } from 'vite';

// The dashboard: built by `npm run build` into dist/web, served by the hub at `/`.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: path.resolve(import.meta.dirname, '../dist/web'),
    emptyOutDir: true,
    sourcemap: true,
    // the password estimator's dictionaries (~1.7 MB) are a chunk of their own, loaded only by the
    // registration form; the main chunk's size is checked by test/browser/password-feedback.test.ts
    chunkSizeWarningLimit: 2_000,
  },
  server: {
    // `npx vite --config web/vite.config.ts` for development, against a hub on :3000
    proxy: { '/api': 'http://127.0.0.1:3000', '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true } },
  },
});
