/**
 * Idle subscribers: what each open, quiet connection costs the server in RSS and JS heap, with
 * 10,000 of them, for ssekit, a hand-written node:http server and better-sse. The server runs
 * in its own process with --expose-gc and reports its memory, collected, before and after.
 *
 *   npm run bench:idle
 *   npm run bench:idle -- --n 5000 --servers ssekit,raw
 */
import { parseArgs } from 'node:util';
import { bundleChildren, guard, killAll, sleep, spawnChild } from './lib/children.js';
import { fmt, machine, table } from './lib/report.js';

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    servers: { type: 'string', default: 'raw,ssekit,better-sse' },
    settle: { type: 'string', default: '2' },
  },
});
const N = Number(opts.n);
const SERVERS = opts.servers.split(',');

interface Measured {
  memory: NodeJS.MemoryUsage;
  subscribers: number;
}

interface Row {
  server: string;
  connections: number;
  rssKB: number;
  heapKB: number;
  externalKB: number;
  rssTotalMB: number;
}

async function waitForCount(server: ReturnType<typeof spawnChild>, n: number): Promise<number> {
  let subscribers = -1;
  for (let i = 0; i < 100; i++) {
    ({ subscribers } = await server.request<{ subscribers: number }>({ op: 'count' }));
    if (subscribers === n) break;
    await sleep(100);
  }
  return subscribers;
}

async function runCase(kind: string): Promise<Row> {
  const server = spawnChild('server-child', [kind], ['--expose-gc']);
  let client = spawnChild('subscriber-child');
  try {
    const { port } = await server.request<{ port: number }>({ op: 'listen' });
    const path = '/?stream=bench';
    // Warm up: the code paths a connection takes are compiled before the baseline is taken.
    await client.request({ op: 'connect', port, path, n: 200 });
    await waitForCount(server, 200);
    await client.stop();
    await waitForCount(server, 0);
    client = spawnChild('subscriber-child');
    const before = await server.request<Measured>({ op: 'memory' });
    const conn = await client.request<{ connected: number; failed: number; firstError: string }>(
      { op: 'connect', port, path, n: N },
      120_000,
    );
    if (conn.failed > 0) throw new Error(`${conn.failed} subscribers failed: ${conn.firstError}`);
    const counted = await waitForCount(server, N);
    if (counted !== N) throw new Error(`server counts ${counted} subscribers, not ${N}`);
    await sleep(Number(opts.settle) * 1000);
    const after = await server.request<Measured>({ op: 'memory' });
    const per = (key: keyof NodeJS.MemoryUsage) =>
      (after.memory[key] - before.memory[key]) / N / 1024;
    return {
      server: kind,
      connections: after.subscribers,
      rssKB: per('rss'),
      heapKB: per('heapUsed'),
      externalKB: per('external'),
      rssTotalMB: after.memory.rss / 2 ** 20,
    };
  } finally {
    // The server closes first, so TIME_WAIT sockets sit on its side and not on client ports.
    await server.stop();
    await client.request({ op: 'close' }).catch(() => {});
    await client.stop();
  }
}

async function main() {
  guard(10 * 60_000);
  await bundleChildren();
  console.log(`# bench:idle\n\nbefore: ${machine()}\n`);
  const rows: Row[] = [];
  for (const kind of SERVERS) {
    const row = await runCase(kind);
    rows.push(row);
    console.error(`${kind}: ${fmt(row.rssKB, 1)} KB RSS, ${fmt(row.heapKB, 1)} KB heap`);
  }
  const raw = rows.find((r) => r.server === 'raw');
  console.log(
    table(
      [
        'server',
        'connections',
        'RSS KB/conn',
        'JS heap KB/conn',
        'external KB/conn',
        'RSS total MB',
        'over raw (RSS · heap) KB',
      ],
      rows.map((r) => [
        r.server,
        fmt(r.connections),
        fmt(r.rssKB, 1),
        fmt(r.heapKB, 1),
        fmt(r.externalKB, 2),
        fmt(r.rssTotalMB, 1),
        raw ? `${fmt(r.rssKB - raw.rssKB, 1)} · ${fmt(r.heapKB - raw.heapKB, 1)}` : '—',
      ]),
    ),
  );
  const ours = rows.find((r) => r.server === 'ssekit');
  if (ours && raw) {
    const met = ours.rssKB <= raw.rssKB + 2 && ours.heapKB <= raw.heapKB + 2;
    console.log(
      `\ntarget (ssekit ≤ raw + 2 KB per connection, RSS and heap): ${met ? 'met' : 'missed'}`,
    );
  }
  console.log(`\nafter: ${machine()}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(killAll);
