/**
 * Subscribers in their own process: plain node:http GET requests, one socket each, that count
 * events and record their latency. Nothing else is parsed.
 */
import http from 'node:http';
import { EventCounter, Histogram } from './events.js';
import { type Request, serve } from './serve.js';

/** Loopback source addresses, so 10,000 connections never run out of ephemeral ports. */
const SOURCES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

const histogram = new Histogram();
/** Events are counted only between `reset` and `sample`; before that they are warm-up. */
const counting: { on: boolean } = { on: false };
const sink = {
  record(us: number) {
    if (counting.on) histogram.record(us);
  },
};
const requests = new Set<http.ClientRequest>();
let closedByServer = 0;
let cpuAtReset = process.cpuUsage();
let resetAt = performance.now();

/** Open one subscription; resolves when its response starts, rejects on failure. */
function subscribe(port: number, path: string, source: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        localAddress: source,
        headers: { Accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`status ${res.statusCode}`));
          req.destroy();
          return;
        }
        const counter = new EventCounter(sink);
        res.on('data', (chunk: Buffer) => counter.push(chunk));
        res.on('close', () => {
          if (requests.delete(req)) closedByServer++;
        });
        resolve();
      },
    );
    req.on('error', (err) => {
      requests.delete(req);
      reject(err);
    });
    requests.add(req);
  });
}

/** Open `n` subscriptions, at most `concurrency` in flight; bounded by `timeoutMs`. */
async function connect(
  port: number,
  path: string,
  n: number,
  concurrency: number,
  timeoutMs: number,
) {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError = '';
  const worker = async () => {
    while (next < n && performance.now() - started < timeoutMs) {
      const i = next++;
      await subscribe(port, path, SOURCES[i % SOURCES.length]!).catch((err: Error) => {
        failed++;
        firstError ||= err.message;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return {
    connected: n - failed - (n - next),
    failed,
    firstError,
    ms: performance.now() - started,
  };
}

serve(async (msg: Request) => {
  switch (msg.op) {
    case 'connect':
      return connect(
        msg.port as number,
        msg.path as string,
        msg.n as number,
        (msg.concurrency as number | undefined) ?? 200,
        (msg.timeoutMs as number | undefined) ?? 60_000,
      );
    case 'reset':
      histogram.reset();
      counting.on = true;
      cpuAtReset = process.cpuUsage();
      resetAt = performance.now();
      return {};
    case 'sample': {
      counting.on = false;
      const cpu = process.cpuUsage(cpuAtReset);
      return {
        events: histogram.total,
        seconds: (performance.now() - resetAt) / 1000,
        counts: Array.from(histogram.counts),
        cpuUs: cpu.user + cpu.system,
        open: requests.size,
        closedByServer,
      };
    }
    case 'close':
      for (const req of requests) req.destroy();
      requests.clear();
      return {};
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
});
