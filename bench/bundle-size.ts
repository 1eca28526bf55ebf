// The browser bundle of ssekit/client (with the protocol module it uses): minified and gzipped
// size. Run: npx tsx bench/bundle-size.ts   (goal: under 6 KB gzipped)
//
// The target is es2022 (every evergreen browser): below it, esbuild turns the `#private` members
// into WeakMaps, which undoes the short names the minifier gives them. TARGET=es2020 to compare.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserBuild, clientEntry as entry } from '../test/support/bundle.js';

const target = process.env.TARGET ?? 'es2022';
const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;

async function bundle(stdin?: string) {
  const result = await build({
    ...browserBuild(target),
    ...(stdin === undefined
      ? {}
      : {
          entryPoints: undefined,
          stdin: { contents: stdin, resolveDir: process.cwd(), loader: 'ts' },
        }),
    metafile: true,
  });
  const code = result.outputFiles![0]!.contents;
  return { result, code, gz: gzipSync(code, { level: 9 }).length };
}

const { result, code, gz } = await bundle();
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
// What an app that imports one of the two clients ships (the bundler drops the other).
for (const name of ['SSEClient', 'EventSource']) {
  const one = await bundle(`export { ${name} } from ${JSON.stringify(entry)};`);
  console.log(`${name} alone: ${kb(one.code.length)} minified, ${kb(one.gz)} gzipped`);
}
const nodeImports = result.metafile.inputs;
if (Object.values(nodeImports).some((i) => i.imports.some((imp) => imp.path.startsWith('node:')))) {
  console.error('the client bundle imports a node: module');
  process.exitCode = 1;
}
if (gz >= 6 * 1024) process.exitCode = 1;
