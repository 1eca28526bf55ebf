/**
 * `npm run bench:encode` — encodeEvent throughput for small and 64 KB events. A benchmark, not a
 * test: it prints figures only. Each case runs for a fixed time; the median of several runs counts.
 */
import { encodeEvent, type PublishEvent } from '../src/protocol/index.js';

const RUNS = Number(process.env.RUNS ?? 7);
const RUN_MS = 200;

const line = 'the quick brown fox jumps over the lazy dog 0123456789\n';
const big = line.repeat(Math.ceil(65536 / line.length)).slice(0, 65536);
const cases: [string, PublishEvent & object, { base64?: boolean }?][] = [
  ['small: data only', { data: '{"seq":12345,"v":"abcdefghij"}' }],
  [
    'small: id + event + data',
    { id: '123456', event: 'update', data: '{"seq":12345,"v":"abcdefghij"}' },
  ],
  ['64 KB data, one line', { id: '1', data: big.replaceAll('\n', ' ') }],
  ['64 KB data, ~1200 lines', { id: '1', data: big }],
  ['64 KB bytes, base64', { data: new TextEncoder().encode(big) }, { base64: true }],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

console.log(`node ${process.version}, median of ${RUNS} runs of ${RUN_MS} ms\n`);
console.log('| event | ops/s | MB/s (wire) |\n|---|---:|---:|');
let sink = 0;
for (const [name, event, opts] of cases) {
  const wireBytes = new TextEncoder().encode(encodeEvent(event, opts)).length;
  const rates: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    let ops = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < RUN_MS) {
      for (let i = 0; i < 64; i++) sink += encodeEvent(event, opts).length;
      ops += 64;
      t = performance.now();
    }
    if (r > 0) rates.push(ops / ((t - t0) / 1000)); // run 0 warms up
  }
  const ops = median(rates);
  console.log(
    `| ${name} | ${Math.round(ops).toLocaleString('en')} | ${((ops * wireBytes) / 1e6).toFixed(0)} |`,
  );
}
if (sink === 0) console.log('');
