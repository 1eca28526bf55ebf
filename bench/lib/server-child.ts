/**
 * A benchmark server in its own process: `ssekit` (`ssekit-unjoined`: with `maxWriteDelayMs: 0`,
 * never joining events across ticks), `better-sse`, or a hand-written node:http loop (`raw`: one
 * write per event; `raw-joined`: a tick's events joined into one write).
 * It listens on 127.0.0.1, publishes on request at a paced rate, and reports its CPU and memory.
 */
import http from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { createChannel, createSession } from 'better-sse';
import { SSEServer } from '../../src/server/index.js';
import { eventData } from './events.js';
import { type Request, serve } from './serve.js';

type ServerKind = 'ssekit' | 'ssekit-unjoined' | 'better-sse' | 'raw' | 'raw-joined';

interface Target {
  handler: http.RequestListener;
  subscribers(): number;
  /** Publish one tick's events. */
  publish(data: string[], firstSeq: number): void;
}

const STREAM = 'bench';
const RAW_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
};

function ssekit(maxWriteDelayMs?: number): Target {
  const sse = new SSEServer({ maxWriteDelayMs });
  const stream = sse.createStream(STREAM);
  return {
    handler: sse.handler,
    subscribers: () => stream.subscriberCount,
    publish(data) {
      for (const d of data) sse.tryPublish(STREAM, d);
    },
  };
}

function betterSse(): Target {
  const channel = createChannel();
  // The data is sent as given (the default serializer would JSON-quote it).
  const options = { serializer: (d: unknown) => String(d) };
  return {
    handler: (req, res) => {
      createSession(req, res, options).then(
        (session) => channel.register(session),
        () => res.destroy(),
      );
    },
    subscribers: () => channel.sessionCount,
    publish(data) {
      for (const d of data) channel.broadcast(d);
    },
  };
}

/** The pre-encoded text written to every response; `joined`: a tick's events in one write. */
function raw(joined: boolean): Target {
  const subs = new Set<http.ServerResponse>();
  return {
    handler: (_req, res) => {
      res.writeHead(200, RAW_HEADERS);
      res.write(':ok\n\n');
      subs.add(res);
      res.once('close', () => subs.delete(res));
    },
    subscribers: () => subs.size,
    publish(data, firstSeq) {
      const texts = data.map((d, i) => `id: ${firstSeq + i}\ndata: ${d}\n\n`);
      if (joined) {
        const text = texts.join('');
        for (const res of subs) res.write(text);
      } else {
        for (const text of texts) for (const res of subs) res.write(text);
      }
    },
  };
}

const kind = process.argv[2] as ServerKind;
const chosen =
  kind === 'ssekit' || kind === 'ssekit-unjoined'
    ? ssekit(kind === 'ssekit' ? undefined : 0)
    : kind === 'better-sse'
      ? betterSse()
      : kind === 'raw' || kind === 'raw-joined'
        ? raw(kind === 'raw-joined')
        : undefined;
if (!chosen) throw new Error(`unknown server kind ${kind}`);
const target: Target = chosen;

const server = http.createServer(target.handler);
let seq = 0;
let publishing: { stop(): void } | undefined;

/**
 * Publish `perTick` events every `1000 / ticksPerSecond` ms until stopped or `maxSeconds` pass.
 * Late ticks are caught up one macrotask at a time (each its own tick, as a real publisher's
 * would be), so a server that keeps up publishes exactly the offered rate and a saturated one
 * publishes back to back; more than `MAX_LAG_MS` behind, the missed ticks are dropped.
 */
function startPublishing(ticksPerSecond: number, perTick: number, maxSeconds: number) {
  const MAX_LAG_MS = 100;
  const periodMs = 1000 / ticksPerSecond;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  let tick = 0;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    const now = performance.now();
    if (now >= deadline) return;
    const data: string[] = [];
    for (let i = 0; i < perTick; i++) data.push(eventData(seq + i));
    target.publish(data, seq);
    seq += perTick;
    tick++;
    const after = performance.now();
    if (after - (start + tick * periodMs) > MAX_LAG_MS) {
      tick = Math.floor((after - start) / periodMs);
    }
    const wait = start + tick * periodMs - after;
    timer = wait >= 1 ? setTimeout(run, wait) : setImmediate(run);
  };
  run();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
      }
    },
  };
}

function collect() {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}

serve(async (msg: Request) => {
  switch (msg.op) {
    case 'listen':
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 8192, resolve));
      return { port: (server.address() as { port: number }).port };
    case 'count':
      return { subscribers: target.subscribers() };
    case 'publish':
      publishing?.stop();
      publishing = startPublishing(
        msg.ticksPerSecond as number,
        msg.perTick as number,
        msg.maxSeconds as number,
      );
      return {};
    case 'sample':
      return {
        cpu: process.cpuUsage(),
        memory: process.memoryUsage(),
        published: seq,
        subscribers: target.subscribers(),
      };
    case 'stop':
      publishing?.stop();
      return { published: seq };
    case 'memory':
      // Let pending work settle, then collect twice so only live objects remain.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { memory: collect(), subscribers: target.subscribers() };
    case 'snapshot':
      collect();
      return { path: writeHeapSnapshot(msg.path as string) };
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
});
