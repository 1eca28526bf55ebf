// Single-subscriber client throughput and latency: ssekit's SSEClient and EventSource against the
// npm `eventsource` package, consuming the same streams from a loopback server in a child process.
//
//   npm run bench:client            (npx tsx bench/client.ts)
//
// Throughput: the server writes N pre-encoded events as fast as the socket takes them, then ends;
// a client's figure is N / (time from subscribing to its last event). Small events (~60 bytes) and
// 64 KB events. Latency: the server sends one small event per millisecond stamped with its send
// time; p50/p99 of (receive time − send time). Every run is bounded in events and in time, and
// the rounds stop early past ROUNDS_DEADLINE_MS.
//
// A last row, "fetch body only", reads the same responses with fetch and counts bytes without
// parsing: the transport's own cost, which every fetch-based client pays.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { EventSource as NpmEventSource } from 'eventsource';
import { SSEClient, EventSource as SsekitEventSource } from '../src/client/index.js';

const SMALL_N = 300_000;
const LARGE_N = 2_000;
const LATENCY_N = 2_000;
const ROUNDS = 5;
const RUN_TIMEOUT_MS = 20_000;
/** No new round starts after this long, so a loaded machine cannot stretch the run for minutes. */
const ROUNDS_DEADLINE_MS = 90_000;

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// The server (child process).

function serve(): void {
  const small = Buffer.from(
    'id: 12345\nevent: tick\ndata: {"n":12345,"payload":"hello world"}\n\n',
  );
  const block = Buffer.concat(Array.from({ length: 256 }, () => small));
  const large = Buffer.from(`data: ${'x'.repeat(64 * 1024 - 8)}\n\n`);

  /** Write `count` copies of `unit` (in blocks of `per`), respecting backpressure. */
  const stream = (res: ServerResponse, unit: Buffer, per: number, count: number) => {
    let left = count;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(per, left);
        left -= n;
        const ok = res.write(n === per ? unit : unit.subarray(0, (unit.length / per) * n));
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.socket?.setNoDelay(true);
    const n = Number(url.searchParams.get('n'));
    if (url.pathname === '/small') stream(res, block, 256, n);
    else if (url.pathname === '/large') stream(res, large, 1, n);
    else if (url.pathname === '/latency') {
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`data: ${now()}\n\n`);
        if (++sent === n) {
          clearInterval(timer);
          res.end();
        }
      }, 1);
      res.on('close', () => clearInterval(timer));
    } else res.end();
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// The clients.

type Client = 'SSEClient' | 'ssekit EventSource' | 'npm eventsource' | 'fetch body only';
const clients: Client[] = ['SSEClient', 'ssekit EventSource', 'npm eventsource', 'fetch body only'];
/** The clients that see events (the transport-only row has no latency). */
const eventClients = clients.slice(0, 3);

/** Read a response to its end with fetch, parsing nothing: what the transport alone costs. */
async function readBody(url: string): Promise<void> {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  while (!(await reader.read()).done) {
    // count nothing: the chunks are only received
  }
}

/** Consume `n` events from `url`; calls `onData` with each data string. */
function consume(
  kind: Client,
  url: string,
  n: number,
  onData?: (d: string) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let count = 0;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${kind}: ${count}/${n} events after ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    let stop = () => {};
    if (kind === 'fetch body only') {
      readBody(url).then(() => {
        clearTimeout(timer);
        resolve();
      }, reject);
      return;
    }
    const done = () => {
      clearTimeout(timer);
      stop();
      resolve();
    };
    if (kind === 'SSEClient') {
      const ac = new AbortController();
      stop = () => ac.abort();
      new SSEClient(url, { reconnect: false })
        .subscribeRaw(
          (e) => {
            onData?.(e.data);
            if (++count === n) done();
          },
          { signal: ac.signal },
        )
        .catch(reject);
      return;
    }
    const es = kind === 'ssekit EventSource' ? new SsekitEventSource(url) : new NpmEventSource(url);
    stop = () => es.close();
    const onEvent = (e: MessageEvent) => {
      onData?.(e.data);
      if (++count === n) done();
    };
    es.addEventListener('tick', onEvent as EventListener);
    es.addEventListener('message', onEvent as EventListener);
  });
}

interface Run {
  perSecond: number;
  /** CPU time of this (the client) process per event, in µs: steadier than wall time. */
  cpuUs: number;
}

async function throughput(kind: Client, url: string, n: number): Promise<Run> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  await consume(kind, url, n);
  const used = process.cpuUsage(cpu);
  return {
    perSecond: n / ((performance.now() - t) / 1000),
    cpuUs: (used.user + used.system) / n,
  };
}

async function latency(
  kind: Client,
  url: string,
  n: number,
): Promise<{ p50: number; p99: number }> {
  const lags: number[] = [];
  await consume(kind, url, n, (d) => lags.push(now() - Number(d)));
  lags.sort((a, b) => a - b);
  return {
    p50: lags[Math.floor(lags.length * 0.5)]!,
    p99: lags[Math.floor(lags.length * 0.99)]!,
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--server'], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  const loadBefore = load();
  try {
    const empty = () =>
      Object.fromEntries(clients.map((k) => [k, [] as Run[]])) as Record<Client, Run[]>;
    const results: Record<string, Record<Client, Run[]>> = { small: empty(), large: empty() };
    // Warm up each client on both sizes; latency first (before the heap holds the throughput
    // runs' garbage), then interleave the rounds so drift hits all clients alike.
    for (const kind of clients) {
      await throughput(kind, `${base}/small?n=20000`, 20_000);
      await throughput(kind, `${base}/large?n=200`, 200);
    }
    const lat: Partial<Record<Client, { p50: number; p99: number }>> = {};
    for (const kind of eventClients) {
      await latency(kind, `${base}/latency?n=200`, 200); // warm-up
      lat[kind] = await latency(kind, `${base}/latency?n=${LATENCY_N}`, LATENCY_N);
    }
    let rounds = 0;
    while (rounds < ROUNDS && performance.now() - started < ROUNDS_DEADLINE_MS) {
      // Each round starts with the next client, so none always runs first (or last).
      const order = clients.map((_, i) => clients[(i + rounds) % clients.length]!);
      for (const kind of order) {
        results.small![kind].push(await throughput(kind, `${base}/small?n=${SMALL_N}`, SMALL_N));
        results.large![kind].push(await throughput(kind, `${base}/large?n=${LARGE_N}`, LARGE_N));
      }
      rounds++;
    }

    const fig = (size: string, kind: Client) => ({
      rate: median(results[size]![kind].map((r) => r.perSecond)),
      cpu: median(results[size]![kind].map((r) => r.cpuUs)),
    });
    const npm = { small: fig('small', 'npm eventsource'), large: fig('large', 'npm eventsource') };
    console.log(
      `Node ${process.version}, median of ${rounds} rounds; server in a child process; load average ${loadBefore} before, ${load()} after\n`,
    );
    console.log(
      '| client | small: events/s | × npm | CPU µs/event | × npm (CPU) | 64 KB: events/s | × npm | CPU µs/event | × npm (CPU) | p50 ms | p99 ms |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const kind of clients) {
      const cells: string[] = [kind];
      for (const size of ['small', 'large'] as const) {
        const f = fig(size, kind);
        cells.push(
          Math.round(f.rate).toLocaleString('en'),
          `${(f.rate / npm[size].rate).toFixed(2)}x`,
          f.cpu.toFixed(2),
          `${(npm[size].cpu / f.cpu).toFixed(2)}x`,
        );
      }
      const l = lat[kind];
      cells.push(l ? l.p50.toFixed(2) : '–', l ? l.p99.toFixed(2) : '–');
      console.log(`| ${cells.join(' | ')} |`);
    }
    console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--server')) serve();
else await main();
