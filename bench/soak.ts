/**
 * `npm run soak`: many SSE subscribers in separate processes against ssekit for a fixed time,
 * every event checked for loss, duplication and order. Bounded in time; not part of `npm test`.
 *
 *   SOAK_VARIANT     memory | redis | slow | all (default all)
 *   SOAK_SUBSCRIBERS total subscribers (default 10000), over SOAK_STREAMS streams (default 100)
 *   SOAK_CLIENTS     subscriber processes (default 4, ~2,500 connections each)
 *   SOAK_DURATION_S  seconds of publishing per variant (default 60)
 *   SOAK_RATE        events/s published over all streams (default 200)
 *   SOAK_PAYLOAD     bytes of padding per event (default 100; 4000 in the slow variant)
 *   SOAK_CHURN_S     redis variant: mean seconds between a subscriber's random reconnects (30)
 *   SOAK_MAX_QUEUED  maxQueuedBytes (default 1 MiB; 64 KiB in the slow variant)
 *   SOAK_RESUME_CACHE redis variant: 0 turns RedisBroker's resumeCache off (default on)
 *   SOAK_BACKLOG     the servers' listen backlog (default 511, node's; the kernel caps it at
 *                    net.core.somaxconn)
 *   SOAK_TRACE       print each server's Redis call times and event-loop lag every second
 *   SOAK_PROF        a directory: write a V8 CPU profile of each server's publishing phase
 *
 * memory: one server, MemoryBroker. redis: two servers on a private redis-server, subscribers
 * spread over both and reconnecting at random with Last-Event-ID. slow: like memory, but 10% of
 * subscribers stop reading a third of the way in; the server's live memory (heap + Buffers after
 * a full GC) must stay under what it was before that (history already full) + slow ×
 * maxQueuedBytes, and the others' latency is compared.
 * Writes bench/out/soak-<variant>.csv, .svg and .json, and prints a summary.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '../test/redis/redis-server.js';
import { plotSvg } from './soak/plot.js';
import { type Child, killAll, ROOT, spawnChild } from './soak/proc.js';

const env = process.env;
const SUBSCRIBERS = Number(env.SOAK_SUBSCRIBERS ?? 10_000);
const STREAMS = Number(env.SOAK_STREAMS ?? 100);
const CLIENTS = Number(env.SOAK_CLIENTS ?? 4);
const DURATION_S = Number(env.SOAK_DURATION_S ?? 60);
const RATE = Number(env.SOAK_RATE ?? 200);
const CHURN_S = Number(env.SOAK_CHURN_S ?? 30);
const OUT = join(ROOT, 'bench', 'out');
// Loopback source addresses, so reconnect churn never runs out of ephemeral ports.
const LOCAL_ADDRS = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`).join(',');

interface Stats {
  rss: number;
  heap: number;
  live: number;
  cpuMicros: number;
  subscribers: number;
  published: number;
  failed: number;
  slowCuts: number;
  lag: { p99: number; max: number };
  publishMs?: CallTimes;
  historyMs?: CallTimes;
}
interface CallTimes {
  n: number;
  p50: number;
  p99: number;
  max: number;
  inflight: number;
}
interface Tick {
  connects: number;
  connectP99: number;
  connectMax: number;
  connectsOver1s: number;
  cpuMicros: number;
  deliveries: number;
  p99: number;
  max: number;
  connected: number;
  lost: number;
  doubled: number;
}
interface Finish {
  delivered: number;
  lost: number;
  tailLost: number;
  subscribersShort: number;
  doubled: number;
  gaps: number;
  reconnects: number;
  unexpectedDrops: number;
  resets: number;
  hist: Array<[number, number]>;
  checked: number;
}

let redisServer: RedisServer | undefined;
const cleanup = () => {
  killAll();
  void redisServer?.stop();
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}
// A hard stop, whatever happens: every variant's time plus generous setup.
const HARD_LIMIT_MS = (DURATION_S + 240) * 4 * 1000;
setTimeout(() => {
  console.error(`soak: still running after ${HARD_LIMIT_MS / 1000} s; stopping`);
  cleanup();
  process.exit(1);
}, HARD_LIMIT_MS).unref();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The kernel's TCP counters (machine-wide, Linux): connections dropped because a listener's
 * accept queue was full, and SYNs sent again after such a drop (after 1 s, then 3, 7, 15 s…).
 */
function tcpDrops(): { listenOverflows: number; synRetrans: number } {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const at = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = lines[at]!.split(' ');
    const values = lines[at + 1]!.split(' ').map(Number);
    const get = (name: string) => values[names.indexOf(name)] ?? 0;
    return { listenOverflows: get('ListenOverflows'), synRetrans: get('TCPSynRetrans') };
  } catch {
    return { listenOverflows: 0, synRetrans: 0 };
  }
}

function percentile(hist: Map<number, number>, p: number): number {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const k of keys) total += hist.get(k)!;
  let want = Math.ceil(total * p);
  for (const k of keys) {
    want -= hist.get(k)!;
    if (want <= 0) return k / 10;
  }
  return 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function runVariant(variant: 'memory' | 'redis' | 'slow') {
  const slow = variant === 'slow';
  const payload = Number(env.SOAK_PAYLOAD ?? (slow ? 4000 : 100));
  const maxQueued = Number(env.SOAK_MAX_QUEUED ?? (slow ? 32 * 1024 : 1024 * 1024));
  // Slow variant: a short history, so it is full (and memory flat) before the slow ones stop.
  const history = slow ? 20 : 1000;
  const slowAt = Math.max(5, Math.floor(DURATION_S / 3));
  console.log(
    `\n== soak ${variant}: ${SUBSCRIBERS} subscribers on ${STREAMS} streams, ${RATE} events/s ` +
      `of ${payload} B for ${DURATION_S} s, ${CLIENTS} subscriber processes`,
  );
  let redis: RedisServer | undefined;
  if (variant === 'redis') redis = redisServer = await RedisServer.start();
  const serverCount = variant === 'redis' ? 2 : 1;
  const servers: Child[] = [];
  const ports: number[] = [];
  for (let i = 0; i < serverCount; i++) {
    const share = STREAMS / serverCount;
    const child = spawnChild(
      'server.ts',
      {
        BROKER: redis?.url ?? 'memory',
        STREAMS: String(STREAMS),
        PUBLISH_FROM: String(Math.round(i * share)),
        PUBLISH_TO: String(Math.round((i + 1) * share)),
        RATE: String(RATE / serverCount),
        PAYLOAD: String(payload),
        MAX_QUEUED: String(maxQueued),
        HISTORY: String(history),
        RESUME_CACHE: env.SOAK_RESUME_CACHE ?? '1',
        BACKLOG: env.SOAK_BACKLOG ?? '511',
      },
      slow ? ['--expose-gc'] : [],
    );
    servers.push(child);
    ports.push((await child.next<{ port: number }>('listening', 60_000)).port);
  }
  const dropsBefore = tcpDrops();
  const clients: Child[] = [];
  const per = Math.ceil(SUBSCRIBERS / CLIENTS);
  for (let i = 0; i < CLIENTS; i++) {
    clients.push(
      spawnChild('clients.ts', {
        PORTS: ports.join(','),
        STREAMS: String(STREAMS),
        COUNT: String(Math.min(per, SUBSCRIBERS - i * per)),
        FIRST: String(i * per),
        LOCAL_ADDRS,
        SLOW: slow ? (env.SOAK_SLOW_FRACTION ?? '0.1') : '0',
        CHURN_S: variant === 'redis' ? String(CHURN_S) : '0',
      }),
    );
  }
  const ready = await Promise.all(
    clients.map((c) => c.next<{ connected: number }>('ready', 300_000)),
  );
  const connected = ready.reduce((n, r) => n + r.connected, 0);
  console.log(`   ${connected} subscribers connected`);
  const idle = await Promise.all(servers.map((s) => s.ask<Stats>({ op: 'stats' })));
  const baselineRss = idle.reduce((n, s) => n + s.rss, 0);

  // Per-second samples: client ticks arrive on their own; server stats are asked for.
  const rows: string[] = [
    't_s,deliveries_per_s,p99_ms,max_ms,connected,server_rss_mb,server_heap_mb,server_cpu_pct',
  ];
  const series = {
    t: [] as number[],
    dps: [] as number[],
    p99: [] as number[],
    rss: [] as number[],
    cpu: [] as number[],
  };
  const emptyTick = () => ({
    deliveries: 0,
    p99: 0,
    max: 0,
    connected: 0,
    cpu: 0,
    connects: 0,
    connectP99: 0,
    connectMax: 0,
    connectsOver1s: 0,
  });
  const tickSum = emptyTick();
  let slowConnects = 0;
  let clientsCpuTotal = 0;
  const loadBefore = loadavg()[0]!;
  for (const c of clients) {
    c.proc.on('message', (m: Tick & { op: string }) => {
      if (m.op !== 'tick') return;
      tickSum.deliveries += m.deliveries;
      tickSum.p99 = Math.max(tickSum.p99, m.p99);
      tickSum.max = Math.max(tickSum.max, m.max);
      tickSum.connected += m.connected;
      tickSum.cpu += m.cpuMicros / 1e4;
      tickSum.connects += m.connects;
      tickSum.connectP99 = Math.max(tickSum.connectP99, m.connectP99);
      tickSum.connectMax = Math.max(tickSum.connectMax, m.connectMax);
      tickSum.connectsOver1s += m.connectsOver1s;
      slowConnects += m.connectsOver1s;
    });
  }
  if (redis && env.SOAK_TRACE) await redis.cli('CONFIG', 'RESETSTAT');
  await Promise.all(servers.map((s) => s.ask({ op: 'publish', on: true })));
  const started = Date.now();
  let peakRss = 0;
  let peakLive = 0;
  let baselineSlowRss = 0;
  let baselineLive = 0;
  let slowCount = 0;
  let cpuTotal = 0;
  for (let sec = 1; sec <= DURATION_S; sec++) {
    await sleep(started + sec * 1000 - Date.now());
    if (slow && sec === slowAt) {
      baselineSlowRss = peakRss;
      baselineLive = peakLive;
      const answers = await Promise.all(
        clients.map((c) => c.ask<{ count: number }>({ op: 'slow' })),
      );
      slowCount = answers.reduce((n, a) => n + a.count, 0);
      console.log(`   ${slowCount} subscribers stopped reading`);
    }
    const stats = await Promise.all(servers.map((s) => s.ask<Stats>({ op: 'stats' })));
    const rss = stats.reduce((n, s) => n + s.rss, 0);
    const heap = stats.reduce((n, s) => n + s.heap, 0);
    const cpu = stats.reduce((n, s) => n + s.cpuMicros, 0) / 1e4; // % of one core over ~1 s
    cpuTotal += cpu;
    peakRss = Math.max(peakRss, rss);
    peakLive = Math.max(
      peakLive,
      stats.reduce((n, s) => n + s.live, 0),
    );
    const row = [
      sec,
      tickSum.deliveries,
      tickSum.p99,
      tickSum.max.toFixed(1),
      tickSum.connected,
      (rss / 2 ** 20).toFixed(1),
      (heap / 2 ** 20).toFixed(1),
      cpu.toFixed(1),
      tickSum.cpu.toFixed(1),
    ];
    rows.push(row.join(','));
    series.t.push(sec);
    series.dps.push(tickSum.deliveries);
    series.p99.push(tickSum.p99);
    series.rss.push(rss / 2 ** 20);
    series.cpu.push(cpu);
    if (sec % 10 === 0) console.log(`   ${row.join(' ')}`);
    if (env.SOAK_TRACE) {
      const calls = (c?: CallTimes) =>
        c ? `${c.n}× p50 ${c.p50} p99 ${c.p99} max ${c.max} (${c.inflight} waiting)` : '-';
      console.log(
        `     t=${sec} clients: ${tickSum.connects} connects, p99 ${tickSum.connectP99.toFixed(0)} ` +
          `max ${tickSum.connectMax.toFixed(0)} ms, ${tickSum.connectsOver1s} over 1 s · cpu ${tickSum.cpu.toFixed(0)}%`,
      );
      for (const [i, st] of stats.entries()) {
        console.log(
          `     t=${sec} server ${i}: lag p99 ${st.lag.p99} max ${st.lag.max} ms · ` +
            `publish ${calls(st.publishMs)} · history ${calls(st.historyMs)} · cpu ${(st.cpuMicros / 1e4).toFixed(0)}%`,
        );
      }
    }
    clientsCpuTotal += tickSum.cpu;
    Object.assign(tickSum, emptyTick());
  }
  await Promise.all(servers.map((s) => s.ask({ op: 'publish', on: false })));
  if (redis && env.SOAK_TRACE) {
    // What Redis itself did while publishing: its CPU and its commands (calls, µs per call).
    console.log(await redis.cli('INFO', 'cpu'));
    console.log(await redis.cli('INFO', 'commandstats'));
  }
  await sleep(500); // the last publishes settle
  const finals = await Promise.all(
    servers.map((s) =>
      s.ask<{ seq: Record<string, number>; published: number; failed: number }>({ op: 'final' }),
    ),
  );
  const seq: Record<string, number> = {};
  for (const f of finals) Object.assign(seq, f.seq);
  // Let what is in flight arrive (and churned subscribers come back and catch up): at most 60 s.
  let behind = 0;
  const drainStart = Date.now();
  for (let k = 0; k < 60; k++) {
    const answers = await Promise.all(
      clients.map((c) => c.ask<{ behind: number }>({ op: 'behind', seq })),
    );
    behind = answers.reduce((n, a) => n + a.behind, 0);
    if (behind === 0) break;
    await sleep(1000);
  }
  const drainS = (Date.now() - drainStart) / 1000;
  console.log(
    `   drained in ${drainS.toFixed(1)} s${behind > 0 ? ` (${behind} events still missing)` : ''}`,
  );
  const dropsAfter = tcpDrops();
  const endStats = await Promise.all(servers.map((s) => s.ask<Stats>({ op: 'stats' })));
  const results = await Promise.all(
    clients.map((c) => c.ask<Finish>({ op: 'finish', seq }, 120_000)),
  );
  for (const c of [...clients, ...servers]) c.proc.send({ op: 'exit' });
  await sleep(500);
  killAll();
  if (redis) {
    await redis.dispose();
    redisServer = undefined;
  }

  const hist = new Map<number, number>();
  const total = {
    delivered: 0,
    lost: 0,
    tailLost: 0,
    short: 0,
    doubled: 0,
    gaps: 0,
    reconnects: 0,
    drops: 0,
    resets: 0,
    checked: 0,
  };
  for (const r of results) {
    for (const [b, n] of r.hist) hist.set(b, (hist.get(b) ?? 0) + n);
    total.delivered += r.delivered;
    total.lost += r.lost;
    total.tailLost += r.tailLost;
    total.short += r.subscribersShort;
    total.doubled += r.doubled;
    total.gaps += r.gaps;
    total.reconnects += r.reconnects;
    total.drops += r.unexpectedDrops;
    total.resets += r.resets;
    total.checked += r.checked;
  }
  const published = finals.reduce((n, f) => n + f.published, 0);
  const failed = finals.reduce((n, f) => n + f.failed, 0);
  const summary = {
    variant,
    subscribers: SUBSCRIBERS,
    connected,
    streams: STREAMS,
    durationS: DURATION_S,
    rate: RATE,
    payload,
    maxQueuedBytes: maxQueued,
    published,
    publishFailed: failed,
    delivered: total.delivered,
    deliveriesPerS: Math.round(
      series.dps.slice(2).reduce((a, b) => a + b, 0) / Math.max(1, series.dps.length - 2),
    ),
    latencyMs: {
      p50: percentile(hist, 0.5),
      p99: percentile(hist, 0.99),
      p999: percentile(hist, 0.999),
      max: percentile(hist, 1),
    },
    checkedSubscribers: total.checked,
    lost: total.lost,
    tailLost: total.tailLost,
    subscribersShort: total.short,
    doubledOrLate: total.doubled,
    gaps: total.gaps,
    reconnects: total.reconnects,
    // Connects that waited over 1 s for their response: a full accept queue (SYN retried after 1 s, 3 s, 7 s…)
    connectsOver1s: slowConnects,
    // Machine-wide: another program's listener on this machine counts too.
    acceptQueueDrops: dropsAfter.listenOverflows - dropsBefore.listenOverflows,
    synRetransmits: dropsAfter.synRetrans - dropsBefore.synRetrans,
    unexpectedDrops: total.drops,
    resets: total.resets,
    serverRssMb: {
      idleWithSubscribers: +(baselineRss / 2 ** 20).toFixed(1),
      peak: +(peakRss / 2 ** 20).toFixed(1),
    },
    drainS: +drainS.toFixed(1),
    serverCpuPctAvg: +(cpuTotal / DURATION_S).toFixed(1),
    clientsCpuPctAvg: +(clientsCpuTotal / DURATION_S).toFixed(1),
    loadAverage1m: { before: +loadBefore.toFixed(1), after: +loadavg()[0]!.toFixed(1) },
    slowSubscribers: slowCount,
    slowCut: endStats.reduce((n, s) => n + s.slowCuts, 0),
    ...(slow
      ? {
          slowStoppedAtS: slowAt,
          rssBeforeSlowMb: +(baselineSlowRss / 2 ** 20).toFixed(1),
          // Live memory (heap + Buffers, measured right after a full GC) is what the bound is about.
          liveBeforeSlowMb: +(baselineLive / 2 ** 20).toFixed(1),
          livePeakMb: +(peakLive / 2 ** 20).toFixed(1),
          liveBoundMb: +((baselineLive + slowCount * maxQueued) / 2 ** 20).toFixed(1),
          p99MsMedianBeforeSlow: median(series.p99.slice(1, slowAt - 1)),
          p99MsMedianAfterSlow: median(series.p99.slice(slowAt + 1)),
        }
      : {}),
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `soak-${variant}.csv`), `${rows.join('\n')}\n`);
  writeFileSync(join(OUT, `soak-${variant}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(
    join(OUT, `soak-${variant}.svg`),
    plotSvg(
      `ssekit soak (${variant}): ${connected} subscribers, ${STREAMS} streams, ${RATE} events/s`,
      series.t,
      [
        { label: 'deliveries', unit: 'per s', values: series.dps },
        { label: 'latency p99 (worst process)', unit: 'ms', values: series.p99 },
        { label: 'server RSS', unit: 'MB', values: series.rss },
        { label: 'server CPU', unit: '% of a core', values: series.cpu },
      ],
    ),
  );
  console.log(JSON.stringify(summary, null, 2));
  const ok =
    summary.lost === 0 &&
    summary.doubledOrLate === 0 &&
    summary.publishFailed === 0 &&
    connected === SUBSCRIBERS &&
    (!slow || peakLive <= baselineLive + slowCount * maxQueued);
  console.log(`   ${variant}: ${ok ? 'PASS' : 'FAIL'}`);
  return ok;
}

const which = env.SOAK_VARIANT ?? 'all';
const variants = (which === 'all' ? ['memory', 'redis', 'slow'] : which.split(',')) as Array<
  'memory' | 'redis' | 'slow'
>;
let allOk = true;
try {
  for (const v of variants) allOk = (await runVariant(v)) && allOk;
} finally {
  cleanup();
}
process.exit(allOk ? 0 : 1);
