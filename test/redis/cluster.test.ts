import { createCluster } from 'redis';
import { RedisBroker } from 'ssekit/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/env.js';
import { ServerProcess, Subscriber } from './processes.js';
import { haveRedis, RedisClusterNodes, until } from './redis-server.js';

const range = (from: number, to: number, prefix = '') =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

describe.runIf(requireTool('redis-server', haveRedis))(
  'SSEServer processes on a 3-node Redis Cluster',
  () => {
    let cluster: RedisClusterNodes;
    let servers: ServerProcess[];
    const subs: Subscriber[] = [];

    beforeAll(async () => {
      cluster = await RedisClusterNodes.start();
      const env = { REDIS_CLUSTER: cluster.rootNodes.map((n) => n.url).join(',') };
      servers = await Promise.all([ServerProcess.start(env), ServerProcess.start(env)]);
    });
    afterAll(async () => {
      for (const s of subs) s.close();
      await Promise.all((servers ?? []).map((s) => s.stop()));
      await cluster?.dispose();
    });

    it('delivers across processes in one order, for streams whose keys live on different nodes', async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const streams = ['red', 'green', 'blue', 'yellow', 'violet'];
      const watchers = streams.flatMap((stream) =>
        [a, b].map((server) => ({ stream, server, sub: new Subscriber() })),
      );
      subs.push(...watchers.map((w) => w.sub));
      await Promise.all(watchers.map((w) => w.sub.connect(w.server.events(w.stream))));
      await Promise.all(
        streams.map(async (stream) => {
          for (let i = 1; i <= 20; i++) await (i % 2 ? a : b).publish(stream, `${stream}${i}`);
        }),
      );
      await until(() => watchers.every((w) => w.sub.events.length === 20));
      for (const w of watchers) expect(w.sub.data).toEqual(range(1, 20, w.stream));

      // The streams' keys are spread over the nodes, every key of one stream on one node.
      const client = createCluster({ rootNodes: cluster.rootNodes });
      client.on('error', () => {});
      await client.connect();
      try {
        const owners = new Set<string>();
        for (const stream of streams) {
          const base = `ssekit:{${stream}}`;
          const slot = await client.sendCommand(base, true, ['CLUSTER', 'KEYSLOT', base]);
          const node = client.slots[Number(slot)]?.master;
          owners.add(`${node?.host}:${node?.port}`);
          expect(await client.sendCommand(base, true, ['XLEN', `${base}:history`])).toBe(20);
        }
        expect(owners.size).toBeGreaterThan(1);
        // Announced with sharded pub/sub: each channel lives on its stream's node only.
        const shardChannels: string[] = [];
        for (const n of cluster.nodes)
          shardChannels.push(...(await n.cli('PUBSUB', 'SHARDCHANNELS')).split('\n'));
        expect(shardChannels.filter((c) => c !== '').sort()).toEqual(
          streams.map((s) => `ssekit:{${s}}:live`).sort(),
        );
      } finally {
        await client.close();
      }
    });

    it('replays after a client reconnects to the other process', async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const s = new Subscriber();
      subs.push(s);
      await s.connect(a.events('moving'));
      for (const d of range(1, 5)) await b.publish('moving', d);
      await until(() => s.events.length === 5);
      s.close();
      for (const d of range(6, 10)) await a.publish('moving', d);
      await s.connect(b.events('moving'));
      await a.publish('moving', '11');
      await until(() => s.events.length === 11);
      expect(s.data).toEqual(range(1, 11));
    });

    it('works as a broker on a cluster client directly', async () => {
      const client = createCluster({ rootNodes: cluster.rootNodes });
      client.on('error', () => {});
      const broker = new RedisBroker({ client, keyPrefix: 'direct', onError: () => {} });
      try {
        const limits = { maxEvents: 10, maxAgeMs: Number.POSITIVE_INFINITY };
        const got: string[] = [];
        await broker.listen('s', { onEvent: (e) => got.push(e.body) });
        const first = await broker.publish('s', { body: 'data: 1\n\n' }, limits);
        await broker.publish('s', { body: 'data: 2\n\n' }, limits);
        await until(() => got.length === 2);
        expect(got).toEqual(['data: 1\n\n', 'data: 2\n\n']);
        expect((await broker.history('s', first, limits)).events.map((e) => e.body)).toEqual([
          'data: 2\n\n',
        ]);
      } finally {
        await broker.close();
        await client.close();
      }
    });
  },
);
