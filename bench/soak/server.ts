/**
 * One SSEServer process for the soak, on node:http and loopback. It publishes to its share of
 * the streams at a steady rate: each event's data is `<seq> <sent time, ms> <padding>` with a
 * per-stream sequence number, so subscribers can check order, loss and latency.
 *
 * env: BROKER (memory | redis://…), STREAMS (total), PUBLISH_FROM/PUBLISH_TO (its streams),
 * RATE (events/s over its streams), PAYLOAD (bytes of padding), MAX_QUEUED (maxQueuedBytes),
 * HISTORY (events kept per stream), BACKLOG (listen backlog), RESUME_CACHE ('0': RedisBroker without its resume cache).
 * IPC: sends {op:'listening', port}; answers {op:'stats'}, {op:'publish', on}, {op:'final'}.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { RedisBroker } from '../../src/redis/index.js';
import { SSEServer } from '../../src/server/index.js';
import { loopLag, timedBroker } from './timing.js';

const env = process.env;
const brokerUrl = env.BROKER ?? 'memory';
const streams = Number(env.STREAMS ?? 100);
const from = Number(env.PUBLISH_FROM ?? 0);
const to = Number(env.PUBLISH_TO ?? streams);
const rate = Number(env.RATE ?? 200);
const padding = 'p'.repeat(Number(env.PAYLOAD ?? 100));
const timed =
  brokerUrl === 'memory'
    ? undefined
    : timedBroker(
        new RedisBroker({
          url: brokerUrl,
          onError: () => {},
          // RESUME_CACHE=0: every resume reads Redis (to compare with the default).
          ...(env.RESUME_CACHE === '0' ? { resumeCache: false as const } : {}),
        }),
      );
const broker = timed?.broker;
const lag = loopLag();
let subscribers = 0;
let slowCuts = 0;
const sse = new SSEServer({
  ...(broker ? { broker } : {}),
  keepAliveMs: 15_000,
  maxQueuedBytes: Number(env.MAX_QUEUED ?? 1024 * 1024),
  history: { maxEvents: Number(env.HISTORY ?? 1000) },
  onSubscribe: () => subscribers++,
  onUnsubscribe: (_s, info) => {
    subscribers--;
    if (info.reason === 'slow-subscriber') slowCuts++;
  },
});
for (let s = 0; s < streams; s++) sse.createStream(`s${s}`);
await Promise.all(Array.from({ length: streams }, (_, s) => sse.createStream(`s${s}`).ready));

const http = createServer(sse.handler);
http.keepAliveTimeout = 60_000;
http.listen({ port: 0, host: '127.0.0.1', backlog: Number(env.BACKLOG ?? 511) }, () => {
  const addr = http.address();
  process.send?.({ op: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
});

// The publisher: every 10 ms, its share of the rate, round-robin over its streams.
const seq = new Map<number, number>();
let published = 0;
let failed = 0;
let next = from;
let carry = 0;
let lastTick = 0;
let timer: NodeJS.Timeout | undefined;
function tick() {
  // By the clock, not by the tick count: timers run late under load.
  const now = performance.now();
  carry += (rate * (now - lastTick)) / 1000;
  lastTick = now;
  for (; carry >= 1; carry--) {
    const s = next;
    next = next + 1 >= to ? from : next + 1;
    const q = (seq.get(s) ?? 0) + 1;
    seq.set(s, q);
    const now = performance.timeOrigin + performance.now();
    sse.publish(`s${s}`, `${q} ${now.toFixed(3)} ${padding}`).then(
      () => published++,
      () => failed++,
    );
  }
}

// SOAK_PROF=dir: a V8 CPU profile of the publishing phase, one file per server process.
const profiler = env.SOAK_PROF ? new Session() : undefined;
async function profile(on: boolean) {
  if (!profiler) return;
  if (on) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  } else {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(`${env.SOAK_PROF}/server-${process.pid}.cpuprofile`, JSON.stringify(profile));
    profiler.disconnect();
  }
}

let cpu = process.cpuUsage();
process.on('message', (m: { op: string; on?: boolean }) => {
  switch (m.op) {
    case 'publish':
      void profile(!!m.on);
      if (m.on && !timer) {
        lastTick = performance.now();
        timer = setInterval(tick, 10);
      }
      if (!m.on && timer) {
        clearInterval(timer);
        timer = undefined;
      }
      process.send?.({ op: 'publish' });
      break;
    case 'stats': {
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      // With --expose-gc (the slow variant): live memory, not garbage not yet collected.
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const mem = process.memoryUsage();
      process.send?.({
        op: 'stats',
        rss: mem.rss,
        heap: mem.heapUsed,
        live: mem.heapUsed + mem.external,
        cpuMicros: used.user + used.system,
        subscribers,
        published,
        failed,
        slowCuts,
        lag: lag.take(),
        ...(timed ? { publishMs: timed.publish.take(), historyMs: timed.history.take() } : {}),
      });
      break;
    }
    case 'final':
      process.send?.({ op: 'final', seq: Object.fromEntries(seq), published, failed });
      break;
    case 'exit':
      http.closeAllConnections();
      void sse.close().finally(() => process.exit(0));
      break;
  }
});
