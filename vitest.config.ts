import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the public entry points by name; they resolve to the sources.
    alias: [
      { find: /^ssekit\/protocol$/, replacement: src('protocol/index.ts') },
      { find: /^ssekit\/server$/, replacement: src('server/index.ts') },
      { find: /^ssekit\/client$/, replacement: src('client/index.ts') },
      { find: /^ssekit\/redis$/, replacement: src('redis/index.ts') },
      { find: /^ssekit$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
