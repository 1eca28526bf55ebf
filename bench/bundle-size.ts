// The browser bundle of ssekit/client (with the protocol module it uses): minified and gzipped
// size. Run: npx tsx bench/bundle-size.ts   (goal: under 6 KB gzipped)
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const entry = fileURLToPath(new URL('../src/client/index.ts', import.meta.url));
const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: process.env.TARGET ?? 'es2022',
  write: false,
  metafile: true,
});
const code = result.outputFiles[0]!.contents;
const gz = gzipSync(code, { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;
console.log(
  `ssekit/client browser bundle: ${kb(code.length)} minified, ${kb(gz)} gzipped (goal < 6 KB gz)`,
);
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  const inputs = Object.entries(info.inputs).sort(
    (a, b) => b[1].bytesInOutput - a[1].bytesInOutput,
  );
  console.log(`${file}:`);
  for (const [input, { bytesInOutput }] of inputs) console.log(`  ${input}  ${bytesInOutput} B`);
}
const nodeImports = result.metafile.inputs;
if (Object.values(nodeImports).some((i) => i.imports.some((imp) => imp.path.startsWith('node:')))) {
  console.error('the client bundle imports a node: module');
  process.exitCode = 1;
}
if (gz >= 6 * 1024) process.exitCode = 1;
