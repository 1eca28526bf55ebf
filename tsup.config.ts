import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'protocol/index': 'src/protocol/index.ts',
      'server/index': 'src/server/index.ts',
      'client/index': 'src/client/index.ts',
      'redis/index': 'src/redis/index.ts',
    },
    format: ['esm', 'cjs'],
    // Methods marked @internal are for the transports, not users: left out of the types.
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
  },
  {
    // The bin is ESM only; it imports the library through its own entry files.
    entry: { 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    sourcemap: true,
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    // The client as one browser module (no Node APIs), served by the hub's page.
    entry: { 'browser/ssekit-client': 'src/client/index.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
  },
]);
