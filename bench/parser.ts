/**
 * `npm run bench:parser` — ssekit's EventParser against eventsource-parser (npm) on the same bytes,
 * with bare streaming TextDecoder as the floor. A benchmark, not a test: it prints figures only.
 *
 * Streams: many small events with ids (~50 bytes each) and a few large events (1 MB of data).
 * Each is fed in chunks of 1, 16, 512 and 4096 bytes, as bytes (eventsource-parser gets a
 * streaming TextDecoder in front, as every client of it needs) and as already-decoded strings.
 * Every parser gets the same input objects and does the same work (count events in `onEvent`);
 * the event counts are checked to agree.
 *
 * Time is this process's CPU time (user + system), not wall-clock time: on a shared machine a
 * run that is descheduled halfway would otherwise count the wait. Runs are round-robin, so a
 * burst of load elsewhere hits every parser alike, and figures are the median of RUNS runs.
 * Each stream, chunk size and ssekit mode (bytes, bytes with maxEventSize, strings) runs in its
 * own process beside its eventsource-parser counterpart (see the end of this file). The whole
 * run stays around a minute.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { createParser } from 'eventsource-parser';
import { EventParser } from '../src/protocol/index.js';

const RUNS = Number(process.env.RUNS ?? 9);
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

/**
 * CPU milliseconds this process has used (all threads, so a parser's GC work counts too).
 * CPU=user counts user time only: it leaves out the kernel's page faults, which dominate the
 * large events on a VM whose fresh pages are slow to fault in.
 */
const USER_ONLY = process.env.CPU === 'user';
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + (USER_ONLY ? 0 : u.system)) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const workloads = [() => smallEvents(4 * 1024 * 1024), () => largeEvents(4)];
// 1-byte chunks are slow for everyone: a slice of the stream keeps the run short.
const bytesFor = (size: number) => (size === 1 ? 256 * 1024 : size === 16 ? 1024 * 1024 : Infinity);

/** Which runners share a process: one ssekit mode and the eventsource-parser run it is compared with. */
const modes: Record<string, string[]> = {
  bytes: ['TextDecoder alone (floor)', 'ssekit, bytes', 'eventsource-parser, bytes (+TextDecoder)'],
  limit: ['ssekit, bytes, maxEventSize 16 MiB', 'eventsource-parser, bytes (+TextDecoder)'],
  strings: ['ssekit, strings', 'eventsource-parser, strings'],
};

interface CaseResult {
  stream: string;
  rows: Record<string, string>;
  rate: Record<string, number>;
}

/** One stream in one chunk size, one mode's runners, round-robin. */
function measure(w: Workload, size: number, mode: string): CaseResult {
  let bytes = w.bytes;
  if (bytes.length > bytesFor(size)) bytes = bytes.subarray(0, eventEndNear(bytes, bytesFor(size)));
  const chunks = chunk(bytes, size);
  const strings = decodeChunks(chunks);
  const mb = bytes.length / 1e6;
  const names = modes[mode]!;
  const rate: Record<string, number> = {};
  const times: Record<string, number[]> = {};
  const events: Record<string, number> = {};
  // Three warm-up rounds: after one, whichever ssekit runner came first ran ~30 % slower than the
  // others on the same code (its callers were optimized on early feedback).
  for (let i = 0; i < 3; i++) for (const name of names) runners[name]!(chunks, strings);
  for (const name of names) times[name] = [];
  // Round-robin, so a burst of load elsewhere on the machine hits every parser alike.
  for (let i = 0; i < RUNS; i++) {
    for (const name of names) {
      const t0 = cpuMs();
      events[name] = runners[name]!(chunks, strings);
      times[name]!.push(cpuMs() - t0);
    }
  }
  const counts = new Set(Object.values(events).filter((n) => n >= 0));
  if (counts.size > 1) console.warn(`\n${w.name}, ${size} B: parsers disagree:`, events);
  const rows: Record<string, string> = {};
  for (const name of names) {
    const ms = median(times[name]!);
    rate[name] = mb / (ms / 1000);
    const n = events[name]!;
    const evs = n < 0 ? '—' : Math.round(n / (ms / 1000)).toLocaleString('en');
    rows[name] = `| ${w.name} | ${size} | ${name} | ${rate[name]!.toFixed(0)} | ${evs} |`;
  }
  return { stream: w.name, rows, rate };
}

const one = process.env.BENCH_CASE;
if (one) {
  // A child run: one case, its result as JSON on stdout.
  const [w, size, mode] = one.split(':');
  process.stdout.write(JSON.stringify(measure(workloads[Number(w)]!(), Number(size), mode!)));
} else {
  // Each case and ssekit mode runs in a fresh process. In one process, the JIT's feedback from
  // the 1-byte runs slowed the later 4 KB runs of one parser more than another's (the order of
  // cases moved the ratios by up to 30 %), and ssekit's bytes runs were 5–15 % slower once the
  // same code had also parsed strings or counted bytes for maxEventSize. An application parses
  // one way, so each mode gets a fresh start, with its eventsource-parser counterpart beside it.
  console.log(
    `node ${process.version}, median of ${RUNS} round-robin runs, ${USER_ONLY ? 'user ' : ''}CPU time, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  const rows: string[] = [];
  const ratios: string[] = [];
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  for (let w = 0; w < workloads.length; w++) {
    for (const size of (process.env.CHUNKS ?? '1,16,512,4096').split(',').map(Number)) {
      const result: Record<string, CaseResult> = {};
      for (const mode of Object.keys(modes)) {
        const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
          env: { ...process.env, BENCH_CASE: `${w}:${size}:${mode}` },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        if (child.status !== 0)
          throw new Error(`case ${w}:${size}:${mode} failed (${child.status})`);
        result[mode] = JSON.parse(child.stdout) as CaseResult;
        process.stdout.write('.');
      }
      const { bytes, limit, strings } = result as Record<string, CaseResult>;
      const ep = 'eventsource-parser, bytes (+TextDecoder)';
      // eventsource-parser's bytes row as measured beside ssekit's bytes run.
      rows.push(...Object.values(bytes!.rows), limit!.rows['ssekit, bytes, maxEventSize 16 MiB']!);
      rows.push(...Object.values(strings!.rows));
      ratios.push(
        `| ${bytes!.stream} | ${size} | ${x(bytes!.rate['ssekit, bytes']!, bytes!.rate[ep]!)} | ` +
          `${x(limit!.rate['ssekit, bytes, maxEventSize 16 MiB']!, limit!.rate[ep]!)} | ` +
          `${x(strings!.rate['ssekit, strings']!, strings!.rate['eventsource-parser, strings']!)} | ` +
          `${x(bytes!.rate['TextDecoder alone (floor)']!, bytes!.rate['ssekit, bytes']!)} |`,
      );
    }
  }
  console.log('\n\n| stream | chunk (B) | parser | MB/s | events/s |\n|---|---:|---|---:|---:|');
  console.log(rows.join('\n'));
  console.log(
    '\n| stream | chunk (B) | ssekit ÷ e-p, bytes | same, maxEventSize 16 MiB | ssekit ÷ e-p, strings | TextDecoder ÷ ssekit bytes |\n|---|---:|---:|---:|---:|---:|',
  );
  console.log(ratios.join('\n'));
}
