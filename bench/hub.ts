/**
 * `npm run bench:hub`: the hub under load, over loopback only.
 *
 * 10 publishers POST over keep-alive connections for DURATION_MS; 1,000 subscribers hold SSE
 * connections to one stream. Reported: events/s published, events/s delivered, and end-to-end
 * latency (publish start → a subscriber parses the event). The same load runs against a raw
 * SSEServer on bare node:http (this file with --raw-server, in its own process like the hub),
 * the ratio's base. Everything is bounded: fixed durations, a bounded drain.
 *
 *   npm run build && npm run bench:hub            # env: SUBSCRIBERS, PUBLISHERS, DURATION_MS
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, createServer, get, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const PUBLISHERS = Number(process.env.PUBLISHERS ?? 10);
const DURATION_MS = Number(process.env.DURATION_MS ?? 5000);
const DRAIN_MS = 10_000;
/** Latency is recorded on every SAMPLE-th subscriber (all of them count deliveries). */
const SAMPLE = 10;
const STREAM = 'bench';
const root = fileURLToPath(new URL('../', import.meta.url));

/** The base: SSEServer on bare node:http, publish = read body, server.publish, reply the id. */
async function rawServer(): Promise<void> {
  const { SSEServer } = await import('../src/server/index.js');
  const sse = new SSEServer({ autoStream: true });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/events') return sse.handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      sse.publish(url.searchParams.get('stream') ?? STREAM, Buffer.concat(chunks).toString()).then(
        (id) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ ids: [id] }));
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.stderr.write(
    `hub listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`,
  );
  process.on('SIGTERM', () => process.exit(0));
}

async function startTarget(kind: 'hub' | 'raw'): Promise<{ url: string; proc: ChildProcess }> {
  const args =
    kind === 'hub'
      ? [
          'dist/cli/main.js',
          'serve',
          '--port',
          '0',
          '--max-subscribers',
          String(SUBSCRIBERS * 2),
          '--log-level',
          'warn',
        ]
      : ['--import', 'tsx', 'bench/hub.ts', '--raw-server'];
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
    if (m) return { url: m[1]!, proc };
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error(`${kind} did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function post(agent: Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/publish?stream=${STREAM}`,
      { method: 'POST', agent, headers: { 'Content-Type': 'text/plain' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  published: number;
  publishedPerSec: number;
  delivered: number;
  deliveredPerSec: number;
  complete: boolean;
  p50: number;
  p99: number;
  max: number;
}

async function runLoad(kind: 'hub' | 'raw'): Promise<Result> {
  const target = await startTarget(kind);
  const agent = new Agent({ keepAlive: true, maxSockets: PUBLISHERS });
  // The hub creates a stream on publish; the raw server has autoStream.
  await post(agent, target.url, 'create');
  const latencies: number[] = [];
  let delivered = 0;
  const sockets: Array<{ destroy(): void }> = [];
  await Promise.all(
    Array.from(
      { length: SUBSCRIBERS },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const req = get(`${target.url}/events?stream=${STREAM}`, { agent: false }, (res) => {
            if (res.statusCode !== 200)
              return reject(new Error(`subscribe answered ${res.statusCode}`));
            res.setEncoding('utf8');
            let carry = '';
            const sampled = i % SAMPLE === 0;
            res.on('data', (chunk: string) => {
              const text = carry + chunk;
              const lines = text.split('\n');
              carry = lines.pop()!;
              const now = performance.now();
              for (const line of lines) {
                if (!line.startsWith('data: ')) continue;
                delivered++;
                if (sampled) latencies.push(now - Number(line.slice(6)));
              }
            });
            resolve();
          });
          req.on('error', reject);
          sockets.push(req);
        }),
    ),
  );
  let published = 0;
  const started = performance.now();
  const end = started + DURATION_MS;
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async () => {
      while (performance.now() < end) {
        const status = await post(agent, target.url, String(performance.now()));
        if (status !== 200) throw new Error(`publish answered ${status}`);
        published++;
      }
    }),
  );
  const publishSecs = (performance.now() - started) / 1000;
  const expected = published * SUBSCRIBERS;
  const drainEnd = performance.now() + DRAIN_MS;
  while (delivered < expected && performance.now() < drainEnd)
    await new Promise((r) => setTimeout(r, 20));
  const deliverSecs = (performance.now() - started) / 1000;
  for (const s of sockets) s.destroy();
  agent.destroy();
  target.proc.kill('SIGTERM');
  await once(target.proc, 'exit');
  latencies.sort((a, b) => a - b);
  return {
    published,
    publishedPerSec: published / publishSecs,
    delivered,
    deliveredPerSec: delivered / deliverSecs,
    complete: delivered >= expected,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--raw-server')) return rawServer();
  console.log(
    `bench:hub — ${PUBLISHERS} publishers (keep-alive), ${SUBSCRIBERS} subscribers, ${DURATION_MS} ms per run, loopback\n`,
  );
  const raw = await runLoad('raw');
  const hub = await runLoad('hub');
  const f = (n: number, d = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = [
    ['', 'raw SSEServer (base)', 'ssekit serve', 'hub / base'],
    [
      'events/s published',
      f(raw.publishedPerSec),
      f(hub.publishedPerSec),
      f(hub.publishedPerSec / raw.publishedPerSec, 2),
    ],
    [
      'events/s delivered',
      f(raw.deliveredPerSec),
      f(hub.deliveredPerSec),
      f(hub.deliveredPerSec / raw.deliveredPerSec, 2),
    ],
    ['all delivered', String(raw.complete), String(hub.complete), ''],
    ['latency p50 (ms)', f(raw.p50, 1), f(hub.p50, 1), f(hub.p50 / raw.p50, 2)],
    ['latency p99 (ms)', f(raw.p99, 1), f(hub.p99, 1), f(hub.p99 / raw.p99, 2)],
    ['latency max (ms)', f(raw.max, 1), f(hub.max, 1), ''],
  ];
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.join(' | ')} |`);
    if (i === 0) console.log(`|${r.map(() => ' --- ').join('|')}|`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
