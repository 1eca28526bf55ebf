import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries: Record<string, string[]> = {
  ssekit: [
    'encodeEvent',
    'EventParser',
    'SSEServer',
    'Stream',
    'MemoryBroker',
    'SSEClient',
    'EventSource',
    'RedisBroker',
  ],
  'ssekit/protocol': ['encodeEvent', 'EventParser'],
  'ssekit/server': ['SSEServer', 'Stream', 'MemoryBroker'],
  'ssekit/client': ['SSEClient', 'EventSource'],
  'ssekit/redis': ['RedisBroker'],
};

/** Runs code in a fresh node process from the package root, so `ssekit` resolves through `exports`. */
function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], {
    cwd: root,
    encoding: 'utf8',
  });
}

describe('the built package', () => {
  it.runIf(existsSync(`${root}/dist/index.js`))(
    'exports every entry point as ESM and CommonJS',
    () => {
      for (const [entry, names] of Object.entries(entries)) {
        const esm = run(
          `const m = await import('${entry}'); console.log(JSON.stringify(Object.keys(m)))`,
          'module',
        );
        const cjs = run(
          `console.log(JSON.stringify(Object.keys(require('${entry}'))))`,
          'commonjs',
        );
        for (const keys of [JSON.parse(esm), JSON.parse(cjs)]) {
          expect(keys, entry).toEqual(expect.arrayContaining(names));
        }
      }
    },
  );

  it.runIf(existsSync(`${root}/dist/protocol/index.js`))(
    'keeps the protocol entry free of Node APIs',
    () => {
      const out = execFileSync(
        process.execPath,
        [
          '-e',
          `require('esbuild').build({ entryPoints: ['${root}/dist/protocol/index.js'], bundle: true, platform: 'neutral', write: false, logLevel: 'silent' }).then(r => console.log(r.outputFiles[0].text.includes('node:') ? 'node' : 'clean'))`,
        ],
        { cwd: root, encoding: 'utf8' },
      );
      expect(out.trim()).toBe('clean');
    },
  );
});
