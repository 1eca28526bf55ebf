import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The `ssekit/client` entry's source. */
export const clientEntry = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));

/** How the browser bundle of `ssekit/client` is built: esbuild, minified ESM, ES2022. */
export function browserBuild(target: string | string[] = 'es2022'): BuildOptions {
  return {
    entryPoints: [clientEntry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target,
    write: false,
  };
}
