/**
 * `npm run bench:redis` — RedisBroker against MemoryBroker, on a private redis-server.
 *
 * 1. publish throughput from one process: sequential (one await at a time) and with many
 *    publishes in flight;
 * 2. publish-to-receive latency at 1,000 events/s: for Redis across processes (the listener is a
 *    child process with its own RedisBroker), for memory within the process (it has no other);
 * 3. resumes (`history()` from a recent id, as a reconnect with Last-Event-ID makes) at a steady
 *    rate with RedisBroker's resumeCache on and off, and how long publishes take meanwhile.
 *
 * Bounded: fixed event counts, a 5 s latency run per broker, a deadline on everything.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createClient, type RedisClientType } from 'redis';
import type { Broker, HistoryLimits } from '../src/broker/types.js';
import { RedisBroker } from '../src/redis/index.js';
import { MemoryBroker } from '../src/server/index.js';
import { RedisServer } from '../test/redis/redis-server.js';

const limits: HistoryLimits = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
const BODY = `data: ${'x'.repeat(100)}\n\n`;
const SEQUENTIAL = 5_000;
const CONCURRENT = 50_000;
const IN_FLIGHT = 1_000;
const RATE = 1_000;
const LATENCY_SECONDS = 5;
const RESUME_RATE = 5_000;
const RESUME_SECONDS = 3;
/** Events/s on the stream while resumes go on (one awaited at a time). */
const PUBLISH_RATE = 200;

/** Wall-clock ms with sub-ms resolution, comparable across processes on one host. */
const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error('bench:redis took over 3 minutes; giving up');
    process.exit(1);
  }, 180_000);
  const redis = await startRedis();
  infoClient = createClient({ url: redis.url });
  await infoClient.connect();
  const rows: string[] = [];
  const resumeRows: string[] = [];
  try {
    for (const [name, make] of [
      ['MemoryBroker', () => new MemoryBroker()],
      ['RedisBroker', () => new RedisBroker({ url: redis.url })],
    ] as const) {
      const broker: Broker = make();
      const seq = await sequential(broker);
      const conc = await concurrent(broker);
      const lat =
        name === 'RedisBroker'
          ? await crossProcessLatency(broker, redis.url)
          : await inProcessLatency(broker);
      await broker.close();
      rows.push(
        `| ${name} | ${fmt(seq)} | ${fmt(conc)} | ${lat.where} | ${lat.p50.toFixed(3)} | ${lat.p99.toFixed(3)} | ${lat.max.toFixed(3)} | ${lat.count} |`,
      );
    }
    // The floor this machine sets: bare node-redis PUBLISH → SUBSCRIBE between two processes.
    const bare: RedisClientType = createClient({ url: redis.url });
    await bare.connect();
    const lat = await crossProcessLatency(bare, redis.url, 'listen-raw');
    await bare.close();
    rows.push(
      `| bare node-redis PUBLISH (control) | – | – | ${lat.where} | ${lat.p50.toFixed(3)} | ${lat.p99.toFixed(3)} | ${lat.max.toFixed(3)} | ${lat.count} |`,
    );
    for (const cache of [true, false]) {
      const broker = new RedisBroker({ url: redis.url, ...(cache ? {} : { resumeCache: false }) });
      const r = await resumes(broker);
      await broker.close();
      resumeRows.push(
        `| resumeCache ${cache ? 'on (default)' : 'off'} | ${fmt(r.total)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.publishP50.toFixed(3)} | ${r.publishP99.toFixed(3)} | ${fmt(r.scripts)} | ${fmt(r.checks)} |`,
      );
    }
  } finally {
    clearTimeout(deadline);
    await infoClient?.close();
    await redis.stop();
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\nnode ${process.version}, redis-server ${redis.version}, ${cpus().length} CPUs (load average ${load}), ${SEQUENTIAL} sequential / ${CONCURRENT} publishes (${IN_FLIGHT} in flight), ` +
      `${BODY.length}-byte bodies, latency at ${RATE} events/s for ${LATENCY_SECONDS} s\n`,
  );
  console.log(
    '| broker | sequential publish/s | concurrent publish/s | latency measured | p50 ms | p99 ms | max ms | events |',
  );
  console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
  console.log(
    `\nRedisBroker, resumes (history() from one of a stream's 10 newest ids) at ${fmt(RESUME_RATE)}/s for ${RESUME_SECONDS} s while ~${PUBLISH_RATE} events/s are published to it, one awaited at a time:\n`,
  );
  console.log(
    '| RedisBroker | resumes | resume p50 ms | resume p99 ms | publish p50 ms | publish p99 ms | history reads (scripts) | head checks (HMGET) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of resumeRows) console.log(r);
}

/**
 * Resumes from the newest ids this process received (as reconnects after a short drop ask) at
 * a steady RESUME_RATE, while the stream goes on at PUBLISH_RATE; times both.
 */
async function resumes(broker: RedisBroker) {
  const stream = `bench-resume-${Math.random().toString(36).slice(2)}`;
  // What this process received live: a reconnecting client resumes from one of the newest.
  const received: string[] = [];
  const unlisten = await broker.listen(stream, { onEvent: (e) => received.push(e.id) });
  for (let i = 0; i < 100; i++) await broker.publish(stream, { body: BODY }, limits);
  while (received.length < 100) await new Promise((r) => setTimeout(r, 5));
  const scriptsBefore = await scriptCalls();
  const hmgetBefore = (await commandCalls()).hmget;
  const resumeMs: number[] = [];
  const publishMs: number[] = [];
  let done = false;
  const publisher = (async () => {
    while (!done) {
      const t = now();
      await broker.publish(stream, { body: BODY }, limits);
      publishMs.push(now() - t);
      await new Promise((r) => setTimeout(r, 1000 / PUBLISH_RATE));
    }
  })();
  const total = RESUME_RATE * RESUME_SECONDS;
  const start = now();
  const inFlight: Promise<unknown>[] = [];
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * RESUME_RATE) + 1);
    for (; sent < due; sent++) {
      const id = received[received.length - 1 - Math.floor(Math.random() * 10)] as string;
      const t = now();
      inFlight.push(broker.history(stream, id, limits).then(() => resumeMs.push(now() - t)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  done = true;
  await publisher;
  const scripts = (await scriptCalls()) - scriptsBefore - publishMs.length;
  const checks = (await commandCalls()).hmget - hmgetBefore;
  await unlisten();
  const r = summarize('', resumeMs);
  const p = summarize('', publishMs);
  return { p50: r.p50, p99: r.p99, publishP50: p.p50, publishP99: p.p99, scripts, checks, total };
}

/** EVALSHA calls Redis has run (publishes and history reads), read with a separate client. */
async function scriptCalls(): Promise<number> {
  return (await commandCalls()).evalsha;
}

/** Calls of the commands a resume may cost: EVALSHA (a history read), HMGET (a head check). */
async function commandCalls(): Promise<{ evalsha: number; hmget: number }> {
  const stats = await infoClient!.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return { evalsha: calls('evalsha'), hmget: calls('hmget') };
}

let infoClient: RedisClientType | undefined;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function sequential(broker: Broker): Promise<number> {
  const t = now();
  for (let i = 0; i < SEQUENTIAL; i++) await broker.publish('bench-seq', { body: BODY }, limits);
  return SEQUENTIAL / ((now() - t) / 1000);
}

async function concurrent(broker: Broker): Promise<number> {
  let started = 0;
  const t = now();
  const worker = async () => {
    while (started < CONCURRENT) {
      started++;
      await broker.publish('bench-conc', { body: BODY }, limits);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return CONCURRENT / ((now() - t) / 1000);
}

interface Latency {
  where: string;
  p50: number;
  p99: number;
  max: number;
  count: number;
}

function summarize(where: string, samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return {
    where,
    p50: at(0.5),
    p99: at(0.99),
    max: s[s.length - 1] ?? Number.NaN,
    count: s.length,
  };
}

/** Publishes RATE events/s for LATENCY_SECONDS, each carrying its send time; resolves with the count. */
async function paced(broker: Broker, stream: string): Promise<number> {
  return pace((body) => broker.publish(stream, { body }, limits));
}

async function pace(publish: (body: string) => Promise<unknown>): Promise<number> {
  const total = RATE * LATENCY_SECONDS;
  const start = now();
  let sent = 0;
  const inFlight: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * RATE) + 1);
    for (; sent < due; sent++) inFlight.push(publish(`data: ${now()}\n\n`));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  return total;
}

async function inProcessLatency(broker: Broker): Promise<Latency> {
  const samples: number[] = [];
  const unlisten = await broker.listen('bench-lat', {
    onEvent: (e) => samples.push(now() - Number(e.body.slice(6, -2))),
  });
  await paced(broker, 'bench-lat');
  await unlisten();
  return summarize('in process', samples);
}

async function crossProcessLatency(
  broker: Broker | RedisClientType,
  url: string,
  mode: 'listen' | 'listen-raw' = 'listen',
): Promise<Latency> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [mode, url], {
    execArgv: ['--import', 'tsx'],
  });
  const message = <T>(): Promise<T> =>
    new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  try {
    await message<'ready'>();
    const total =
      'listen' in broker
        ? await paced(broker, 'bench-lat')
        : await pace((body) => broker.publish('bench-raw', body));
    child.send({ expect: total });
    return summarize('across processes', await message<number[]>());
  } finally {
    child.kill();
  }
}

/** The child: listens with its own RedisBroker (or a bare subscriber) and reports receive-minus-send times. */
async function listenChild(url: string, raw: boolean): Promise<void> {
  const samples: number[] = [];
  let expected = Number.POSITIVE_INFINITY;
  const finish = () => {
    if (samples.length < expected) return;
    process.send?.(samples, () => process.exit(0));
  };
  const receive = (body: string) => {
    samples.push(now() - Number(body.slice(6, -2)));
    finish();
  };
  if (raw) {
    const client = createClient({ url });
    await client.connect();
    await client.subscribe('bench-raw', receive);
  } else {
    await new RedisBroker({ url }).listen('bench-lat', { onEvent: (e) => receive(e.body) });
  }
  process.on('message', (m: { expect: number }) => {
    expected = m.expect;
    finish();
  });
  process.send?.('ready');
}

/** A private redis-server on a free loopback port (the tests' helper), with its version. */
async function startRedis(): Promise<{ url: string; version: string; stop(): Promise<void> }> {
  const server = await RedisServer.start();
  const info = await server.cli('INFO', 'server');
  return {
    url: server.url,
    version: /redis_version:([\d.]+)/.exec(info)?.[1] ?? '?',
    stop: () => server.dispose(),
  };
}

// Last, so every const above is initialised.
if (process.argv[2]?.startsWith('listen'))
  await listenChild(process.argv[3] as string, process.argv[2] === 'listen-raw');
else await main();
