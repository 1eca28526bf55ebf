/**
 * Fan-out: one stream, N subscribers, 200-byte events, ssekit against better-sse and a
 * hand-written node:http loop, each server in its own process and the subscribers in another.
 *
 *   npm run bench:fanout
 *   npm run bench:fanout -- --n 1000 --per-tick 16 --seconds 3 --servers ssekit,raw
 *   npm run bench:fanout -- --offered-single 5000 --offered-burst 80000   # latency, not capacity
 *   npm run bench:fanout -- --profile ssekit     # writes a .cpuprofile per ssekit server to bench/.profiles
 *   npm run bench:fanout -- --repeat 5           # each case 5 times, servers interleaved; medians
 *   npm run bench:fanout -- --servers ssekit,ssekit-unjoined,raw   # with and without joining
 *
 * Offered rate: a fixed number of deliveries per second (events/s × N), by default above what one
 * core can serve, so deliveries/s is each server's capacity; late ticks are caught up one at a
 * time and dropped when more than 100 ms late. Latency is publish (in the server, before fan-out)
 * to parse (in the subscriber process); compare it at a rate every server sustains. When the
 * subscriber process is near 100 % CPU, it is the limit, and a server's figure is a lower bound.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { bundleChildren, guard, killAll, sleep, spawnChild } from './lib/children.js';
import { Histogram } from './lib/events.js';
import { fmt, machine, table } from './lib/report.js';

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '100,1000,5000' },
    'per-tick': { type: 'string', default: '1,16' },
    servers: { type: 'string', default: 'ssekit,better-sse,raw,raw-joined' },
    seconds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    // Offered deliveries per second, for 1 event per tick and for bursts: more than any server
    // here sustains (a stream that falls behind joins events, so ssekit takes millions).
    'offered-single': { type: 'string', default: '3000000' },
    'offered-burst': { type: 'string', default: '3000000' },
    // Above 1,000 ticks/s the publisher runs back to back (setImmediate), not on a timer.
    'max-ticks': { type: 'string', default: '30000' },
    profile: { type: 'string' },
    // Rounds per case: tail latency moves more between runs than between servers, so a ratio
    // needs the median of several interleaved runs.
    repeat: { type: 'string', default: '1' },
  },
});

const SIZES = opts.n.split(',').map(Number);
const PER_TICK = opts['per-tick'].split(',').map(Number);
const SERVERS = opts.servers.split(',');
const SECONDS = Number(opts.seconds);
const WARMUP = Number(opts.warmup);
const REPEAT = Number(opts.repeat);

interface Row {
  server: string;
  n: number;
  perTick: number;
  ticksPerSecond: number;
  publishedTicksPerSecond: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerDelivery: number;
  userUsPerDelivery: number;
  serverCpuPercent: number;
  clientCpuPercent: number;
  rssMB: number;
  dropped: number;
  load: number;
}

interface ServerSample {
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  published: number;
  subscribers: number;
}

interface ClientSample {
  events: number;
  seconds: number;
  counts: number[];
  cpuUs: number;
  open: number;
  closedByServer: number;
}

function ticksPerSecond(n: number, perTick: number): number {
  const offered = Number(perTick === 1 ? opts['offered-single'] : opts['offered-burst']);
  return Math.min(Number(opts['max-ticks']), offered / (n * perTick));
}

async function runCase(kind: string, n: number, perTick: number): Promise<Row> {
  const flags = opts.profile === kind ? ['--cpu-prof', '--cpu-prof-dir=bench/.profiles'] : [];
  const server = spawnChild('server-child', [kind], flags);
  const client = spawnChild('subscriber-child');
  try {
    const { port } = await server.request<{ port: number }>({ op: 'listen' });
    const conn = await client.request<{ connected: number; failed: number; firstError: string }>(
      { op: 'connect', port, path: '/?stream=bench', n },
      90_000,
    );
    if (conn.failed > 0) throw new Error(`${conn.failed} subscribers failed: ${conn.firstError}`);
    // The server counts a subscriber a little after the client sees its response start.
    for (let i = 0; i < 50; i++) {
      const { subscribers } = await server.request<{ subscribers: number }>({ op: 'count' });
      if (subscribers === n) break;
      await sleep(100);
    }
    const tps = ticksPerSecond(n, perTick);
    await server.request({
      op: 'publish',
      ticksPerSecond: tps,
      perTick,
      maxSeconds: WARMUP + SECONDS + 5,
    });
    await sleep(WARMUP * 1000);
    await client.request({ op: 'reset' });
    const s0 = await server.request<ServerSample>({ op: 'sample' });
    await sleep(SECONDS * 1000);
    const s1 = await server.request<ServerSample>({ op: 'sample' });
    const c = await client.request<ClientSample>({ op: 'sample' });
    await server.request({ op: 'stop' });
    const cpuUs = s1.cpu.user + s1.cpu.system - (s0.cpu.user + s0.cpu.system);
    return {
      server: kind,
      n,
      perTick,
      ticksPerSecond: tps,
      publishedTicksPerSecond: (s1.published - s0.published) / perTick / c.seconds,
      deliveriesPerSecond: c.events / c.seconds,
      p50Ms: Histogram.quantile(c.counts, 0.5) / 1000,
      p99Ms: Histogram.quantile(c.counts, 0.99) / 1000,
      cpuUsPerDelivery: cpuUs / c.events,
      userUsPerDelivery: (s1.cpu.user - s0.cpu.user) / c.events,
      serverCpuPercent: (cpuUs / (c.seconds * 1e6)) * 100,
      clientCpuPercent: (c.cpuUs / (c.seconds * 1e6)) * 100,
      rssMB: s1.memory.rss / 2 ** 20,
      dropped: n - s1.subscribers,
      load: os.loadavg()[0]!,
    };
  } finally {
    // The server closes first, so TIME_WAIT sockets sit on its side and not on client ports.
    await server.stop();
    await client.request({ op: 'close' }).catch(() => {});
    await client.stop();
  }
}

/** Each figure of a case's runs, its median (taken figure by figure). */
function medianRow(runs: Row[]): Row {
  const median = (pick: (r: Row) => number) => {
    const xs = runs.map(pick).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  };
  return {
    ...runs[0]!,
    publishedTicksPerSecond: median((r) => r.publishedTicksPerSecond),
    deliveriesPerSecond: median((r) => r.deliveriesPerSecond),
    p50Ms: median((r) => r.p50Ms),
    p99Ms: median((r) => r.p99Ms),
    cpuUsPerDelivery: median((r) => r.cpuUsPerDelivery),
    userUsPerDelivery: median((r) => r.userUsPerDelivery),
    serverCpuPercent: median((r) => r.serverCpuPercent),
    clientCpuPercent: median((r) => r.clientCpuPercent),
    rssMB: median((r) => r.rssMB),
    dropped: Math.max(...runs.map((r) => r.dropped)),
    load: median((r) => r.load),
  };
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—';
}

async function main() {
  guard(15 * 60_000);
  await bundleChildren();
  const started = Date.now();
  console.log(`# bench:fanout\n\nbefore: ${machine()}\n`);
  const rows: Row[] = [];
  for (const n of SIZES) {
    for (const perTick of PER_TICK) {
      const runs = new Map<string, Row[]>();
      // Round-robin over the servers, so a burst of load elsewhere hits each of them alike.
      for (let round = 0; round < REPEAT; round++) {
        for (const kind of SERVERS) {
          if (kind === 'raw-joined' && perTick === 1) continue; // the same as raw
          const row = await runCase(kind, n, perTick);
          runs.set(kind, [...(runs.get(kind) ?? []), row]);
          console.error(
            `${kind} n=${n} perTick=${perTick}: ${fmt(row.deliveriesPerSecond)}/s ` +
              `p50 ${fmt(row.p50Ms, 2)} ms p99 ${fmt(row.p99Ms, 2)} ms ` +
              `${fmt(row.cpuUsPerDelivery, 2)} µs/delivery`,
          );
        }
      }
      for (const kindRuns of runs.values()) rows.push(medianRow(kindRuns));
    }
  }
  if (REPEAT > 1) console.log(`Each figure is the median of ${REPEAT} interleaved runs.\n`);
  console.log(
    table(
      [
        'N',
        'events/tick',
        'server',
        'ticks/s offered · sent',
        'deliveries/s',
        'p50 ms',
        'p99 ms',
        'server CPU µs/delivery (user)',
        'server CPU %',
        'client CPU %',
        'server RSS MB',
        'cut',
        'load 1 min',
      ],
      rows.map((r) => [
        fmt(r.n),
        r.perTick,
        r.server,
        `${fmt(r.ticksPerSecond, r.ticksPerSecond < 100 ? 1 : 0)} · ${fmt(r.publishedTicksPerSecond, r.publishedTicksPerSecond < 100 ? 1 : 0)}`,
        fmt(r.deliveriesPerSecond),
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        `${fmt(r.cpuUsPerDelivery, 2)} (${fmt(r.userUsPerDelivery, 2)})`,
        fmt(r.serverCpuPercent),
        fmt(r.clientCpuPercent),
        fmt(r.rssMB, 1),
        r.dropped,
        r.load.toFixed(1),
      ]),
    ),
  );
  const targets: (string | number)[][] = [];
  for (const n of SIZES) {
    for (const perTick of PER_TICK) {
      const find = (kind: string) =>
        rows.find((r) => r.server === kind && r.n === n && r.perTick === perTick);
      const ours = find('ssekit');
      const raw = find('raw');
      const joined = find('raw-joined');
      const better = find('better-sse');
      if (!ours) continue;
      const vsRaw = raw ? ours.deliveriesPerSecond / raw.deliveriesPerSecond : Number.NaN;
      const vsBetter = better ? ours.deliveriesPerSecond / better.deliveriesPerSecond : Number.NaN;
      // At capacity every server's queues grow, so its p99 says little: the latency target is
      // judged at a rate every server sustains (--offered-single/--offered-burst).
      const met = vsRaw >= 0.9 && vsBetter >= 2 ? 'yes' : 'no';
      // On a shared machine a server gets what CPU it can: deliveries per CPU-second is the
      // capacity it would have on a core of its own.
      const perCpu = (r: Row | undefined) => (r ? 1 / r.cpuUsPerDelivery : Number.NaN);
      // The kernel's share (the write system call, and on loopback the receiving side's TCP
      // work too) is alike for every server; user time is what a server's own code costs.
      const perUser = (r: Row | undefined) => (r ? 1 / r.userUsPerDelivery : Number.NaN);
      targets.push([
        fmt(n),
        perTick,
        `${ratio(ours.deliveriesPerSecond, raw?.deliveriesPerSecond ?? Number.NaN)} · ${ratio(perCpu(ours), perCpu(raw))}`,
        `${ratio(ours.deliveriesPerSecond, better?.deliveriesPerSecond ?? Number.NaN)} · ${ratio(perCpu(ours), perCpu(better))} · ${ratio(perUser(ours), perUser(better))}`,
        ratio(ours.p99Ms, raw?.p99Ms ?? Number.NaN),
        joined
          ? `${ratio(ours.deliveriesPerSecond, joined.deliveriesPerSecond)} · ${ratio(perCpu(ours), perCpu(joined))}`
          : '—',
        met,
      ]);
    }
  }
  console.log(
    `\n${table(
      [
        'N',
        'events/tick',
        'ssekit/raw deliveries (≥ 0.9): per s · per CPU-s',
        'ssekit/better-sse (≥ 2): per s · per CPU-s · per user CPU-s',
        'ssekit/raw p99 (≤ 1.2 at a fixed rate)',
        'ssekit/raw-joined: per s · per CPU-s',
        'deliveries targets met',
      ],
      targets,
    )}`,
  );
  console.log(`\nafter: ${machine()}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(killAll);
