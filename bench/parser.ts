/**
 * `npm run bench:parser` — ssekit's EventParser against eventsource-parser (npm) on the same bytes,
 * with bare streaming TextDecoder as the floor. A benchmark, not a test: it prints figures only.
 *
 * Streams: many small events with ids (~50 bytes each) and a few large events (1 MB of data).
 * Each is fed in chunks of 1, 16, 512 and 4096 bytes, as bytes (eventsource-parser gets a
 * streaming TextDecoder in front, as every client of it needs) and as already-decoded strings.
 * Figures are the median of several runs; the whole run stays well under two minutes.
 */
import { createParser } from 'eventsource-parser';
import { EventParser } from '../src/protocol/index.js';

const RUNS = Number(process.env.RUNS ?? 7);
const encoder = new TextEncoder();

interface Workload {
  name: string;
  bytes: Uint8Array;
  events: number;
}

function smallEvents(totalBytes: number): Workload {
  let text = '';
  let events = 0;
  while (text.length < totalBytes) {
    // ~50 bytes: an id, and a small JSON payload.
    text += `id: ${100000 + events}\ndata: {"seq":${events},"v":"abcdefghij"}\n\n`;
    events++;
  }
  return { name: 'small events (~50 B, with ids)', bytes: encoder.encode(text), events };
}

function largeEvents(count: number): Workload {
  const payload = `${'x'.repeat(1024 * 1024 - 7)}é😀`; // 1 MB of data, a few multi-byte chars
  let text = '';
  for (let i = 0; i < count; i++) text += `id: ${i}\nevent: blob\ndata: ${payload}\n\n`;
  return { name: 'large events (1 MB data)', bytes: encoder.encode(text), events: count };
}

function chunk(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** The end of the last event that ends by `limit`, or of the first event if none does. */
function eventEndNear(bytes: Uint8Array, limit: number): number {
  let end = 0;
  for (let i = bytes.indexOf(10); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(10, i + 1)) {
    if (bytes[i + 1] !== 10) continue;
    if (i + 2 > limit && end > 0) break;
    end = i + 2;
    if (end > limit) break;
  }
  return end;
}

function decodeChunks(chunks: Uint8Array[]): string[] {
  const decoder = new TextDecoder();
  return chunks.map((c) => decoder.decode(c, { stream: true }));
}

type Runner = (chunks: Uint8Array[], strings: string[]) => number; // returns events seen

const runners: Record<string, Runner> = {
  'TextDecoder alone (floor)': (chunks) => {
    const decoder = new TextDecoder();
    let n = 0;
    for (const c of chunks) n += decoder.decode(c, { stream: true }).length;
    return n > -1 ? -1 : 0;
  },
  'ssekit, bytes': (chunks) => {
    let n = 0;
    const p = new EventParser({ onEvent: () => n++ });
    for (const c of chunks) p.feed(c);
    return n;
  },
  'ssekit, bytes, maxEventSize 16 MiB': (chunks) => {
    let n = 0;
    const p = new EventParser({ onEvent: () => n++ }, { maxEventSize: 16 * 1024 * 1024 });
    for (const c of chunks) p.feed(c);
    return n;
  },
  'eventsource-parser, bytes (+TextDecoder)': (chunks) => {
    let n = 0;
    const p = createParser({ onEvent: () => n++ });
    const decoder = new TextDecoder();
    for (const c of chunks) p.feed(decoder.decode(c, { stream: true }));
    return n;
  },
  'ssekit, strings': (_, strings) => {
    let n = 0;
    const p = new EventParser({ onEvent: () => n++ });
    for (const s of strings) p.feed(s);
    return n;
  },
  'eventsource-parser, strings': (_, strings) => {
    let n = 0;
    const p = createParser({ onEvent: () => n++ });
    for (const s of strings) p.feed(s);
    return n;
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const workloads = [smallEvents(4 * 1024 * 1024), largeEvents(4)];
// 1-byte chunks are slow for everyone: a slice of the stream keeps the run short.
const bytesFor = (size: number) => (size === 1 ? 256 * 1024 : size === 16 ? 1024 * 1024 : Infinity);

const rows: string[] = [];
const ratios: string[] = [];
console.log(`node ${process.version}, median of ${RUNS} runs\n`);
for (const w of workloads) {
  for (const size of (process.env.CHUNKS ?? '1,16,512,4096').split(',').map(Number)) {
    let bytes = w.bytes;
    if (bytes.length > bytesFor(size))
      bytes = bytes.subarray(0, eventEndNear(bytes, bytesFor(size)));
    const chunks = chunk(bytes, size);
    const strings = decodeChunks(chunks);
    const mb = bytes.length / 1e6;
    const rate: Record<string, number> = {};
    const times: Record<string, number[]> = {};
    const events: Record<string, number> = {};
    for (const [name, run] of Object.entries(runners)) {
      run(chunks, strings); // warm up
      times[name] = [];
    }
    // Round-robin, so a burst of load elsewhere on the machine hits every parser alike.
    for (let i = 0; i < RUNS; i++) {
      for (const [name, run] of Object.entries(runners)) {
        const t0 = performance.now();
        events[name] = run(chunks, strings);
        times[name]!.push(performance.now() - t0);
      }
    }
    for (const name of Object.keys(runners)) {
      const ms = median(times[name]!);
      rate[name] = mb / (ms / 1000);
      const n = events[name]!;
      const evs = n < 0 ? '—' : Math.round(n / (ms / 1000)).toLocaleString('en');
      rows.push(`| ${w.name} | ${size} | ${name} | ${rate[name]!.toFixed(0)} | ${evs} |`);
    }
    const r = (a: string, b: string) => (rate[a]! / rate[b]!).toFixed(2);
    ratios.push(
      `| ${w.name} | ${size} | ${r('ssekit, bytes', 'eventsource-parser, bytes (+TextDecoder)')}× | ` +
        `${r('ssekit, bytes, maxEventSize 16 MiB', 'eventsource-parser, bytes (+TextDecoder)')}× | ` +
        `${r('ssekit, strings', 'eventsource-parser, strings')}× | ` +
        `${(rate['TextDecoder alone (floor)']! / rate['ssekit, bytes']!).toFixed(2)}× |`,
    );
    process.stdout.write('.');
  }
}
console.log('\n\n| stream | chunk (B) | parser | MB/s | events/s |\n|---|---:|---|---:|---:|');
console.log(rows.join('\n'));
console.log(
  '\n| stream | chunk (B) | ssekit ÷ e-p, bytes | same, maxEventSize 16 MiB | ssekit ÷ e-p, strings | TextDecoder ÷ ssekit bytes |\n|---|---:|---:|---:|---:|---:|',
);
console.log(ratios.join('\n'));
