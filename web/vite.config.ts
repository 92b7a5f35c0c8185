import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API and the WebSocket to a chatd at CHATD (default http://127.0.0.1:8080).
const chatd = process.env.CHATD ?? 'http://127.0.0.1:8080';

/** Empties dist/ before a build but keeps dist/.keep, which go:embed needs in a fresh checkout. */
function cleanDistKeepingPlaceholder(): Plugin {
  return {
    name: 'clean-dist-keep-placeholder',
    apply: 'build',
    buildStart() {
      const dir = join(import.meta.dirname, 'dist');
      for (const name of readdirSync(dir)) if (name !== '.keep') rmSync(join(dir, name), { recursive: true, force: true });
    },
  };
}

export default defineConfig({
  plugins: [react(), cleanDistKeepingPlaceholder()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': chatd,
      '/ws': { target: chatd.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
