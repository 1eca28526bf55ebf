import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/env.js';
import { ServerProcess, Subscriber } from './processes.js';
import { haveRedis, RedisServer, until } from './redis-server.js';

const range = (from: number, to: number, prefix = '') =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

/** Publishes `items` through `server`, at most `inFlight` at a time, in order of start. */
async function publishAll(
  server: ServerProcess,
  stream: string,
  items: string[],
  inFlight = 1,
): Promise<string[]> {
  const ids: string[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      ids[i] = await server.publish(stream, items[i] as string);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return ids;
}

describe.runIf(requireTool('redis-server', haveRedis))(
  'SSEServer processes sharing one Redis',
  () => {
    let redis: RedisServer;
    let servers: ServerProcess[];
    const subs: Subscriber[] = [];
    const subscriber = () => {
      const s = new Subscriber();
      subs.push(s);
      return s;
    };

    beforeAll(async () => {
      redis = await RedisServer.start();
      servers = await Promise.all(
        [0, 1, 2].map(() => ServerProcess.start({ REDIS_URL: redis.url })),
      );
    });
    afterAll(async () => {
      for (const s of subs) s.close();
      await Promise.all((servers ?? []).map((s) => s.stop()));
      await redis?.dispose();
    });

    it('delivers an event published on any process to subscribers on every process, in one order', async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const onEach = [a, b, c].map(() => subscriber());
      await Promise.all(
        onEach.map((s, i) => s.connect((servers[i] as ServerProcess).events('cross'))),
      );
      const idsA = await publishAll(a, 'cross', range(1, 10, 'a'));
      const idsB = await publishAll(b, 'cross', range(1, 10, 'b'));
      await until(() => onEach.every((s) => s.events.length === 20));
      for (const s of onEach) {
        expect(s.data).toEqual([...range(1, 10, 'a'), ...range(1, 10, 'b')]);
        expect(s.ids).toEqual([...idsA, ...idsB]);
      }
    });

    it('replays after a client reconnects to another process', async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const s = subscriber();
      await s.connect(a.events('replay'));
      await publishAll(b, 'replay', range(1, 5));
      await until(() => s.events.length === 5);
      s.close();
      await publishAll(b, 'replay', range(6, 12));
      await s.connect(c.events('replay'));
      await publishAll(a, 'replay', range(13, 15));
      await until(() => s.events.length === 15);
      expect(s.data).toEqual(range(1, 15));
    });

    it('gives every subscriber on every process the same total order for 2 publishers × 1000 events', async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const watchers = [a, a, b, b, c, c].map((server) => ({ server, sub: subscriber() }));
      await Promise.all(watchers.map((w) => w.sub.connect(w.server.events('total'))));
      const [idsA, idsB] = await Promise.all([
        publishAll(a, 'total', range(1, 1000, 'A'), 4),
        publishAll(b, 'total', range(1, 1000, 'B'), 4),
      ]);
      await until(
        () => watchers.every((w) => w.sub.events.length === 2000),
        60_000,
        '2000 events everywhere',
      );
      const order = (watchers[0] as { sub: Subscriber }).sub.ids;
      expect(new Set(order)).toEqual(new Set([...idsA, ...idsB]));
      for (const { sub } of watchers) {
        expect(sub.ids).toEqual(order);
        // Each publisher's own events, sequential per connection, keep their order.
        expect(sub.data.filter((d) => d.startsWith('A')).length).toBe(1000);
      }
      // A client that resumes on another process replays that same order (history holds the
      // newest 1000 events, the server's default).
      const late = subscriber();
      await late.connect(c.events('total'), order[1000]);
      await until(() => late.events.length === 999, 30_000, 'the replay');
      expect(late.ids).toEqual(order.slice(1001));
    }, 120_000);

    it('loses nothing when a server is killed with SIGKILL and its clients move to another', async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const onA = [subscriber(), subscriber(), subscriber()];
      await Promise.all(onA.map((s) => s.connect(a.events('kill'))));
      const publishing = publishAll(b, 'kill', range(1, 400), 2);
      await until(() => onA.every((s) => s.events.length >= 100), 20_000, 'the first 100 events');
      await a.kill();
      await until(() => onA.every((s) => !s.connected), 5000, 'the clients to notice');
      // Each reconnects to a live process with its Last-Event-ID.
      await Promise.all(onA.map((s) => s.connect(c.events('kill'))));
      await publishing;
      await until(() => onA.every((s) => s.events.length === 400), 20_000, 'all 400 events');
      for (const s of onA) expect(s.data).toEqual(range(1, 400));
    });
  },
);

/**
 * Publishes in order, retrying a publish that was refused with nothing written (503, the
 * broker's BROKER_UNAVAILABLE), as a client must while each process reconnects after an outage.
 */
async function publishRetrying(
  server: ServerProcess,
  stream: string,
  items: string[],
): Promise<void> {
  for (const item of items) {
    await until(
      () =>
        server.publish(stream, item).then(
          () => true,
          (e: Error & { status?: number }) => {
            if (e.status === 503 && e.message.includes('Nothing was written')) return false;
            throw e;
          },
        ),
      10_000,
      `publishing ${item}`,
    );
  }
}

describe.runIf(requireTool('redis-server', haveRedis))(
  'SSEServer processes when Redis stops and restarts',
  () => {
    let redis: RedisServer;
    let servers: ServerProcess[];
    const subs: Subscriber[] = [];

    beforeAll(async () => {
      redis = await RedisServer.start();
      servers = await Promise.all([
        ServerProcess.start({ REDIS_URL: redis.url }),
        ServerProcess.start({ REDIS_URL: redis.url }),
        ServerProcess.start({ REDIS_URL: redis.url, KEY_PREFIX: 'short', MAX_LEN: '5' }),
      ]);
    });
    afterAll(async () => {
      for (const s of subs) s.close();
      await Promise.all((servers ?? []).map((s) => s.stop()));
      await redis?.dispose();
    });

    it('keeps subscribers through a Redis restart: caught up when data survived, told with reset when not', async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const onA = new Subscriber();
      const onB = new Subscriber();
      subs.push(onA, onB);
      await onA.connect(a.events('restart'));
      await onB.connect(b.events('restart'));
      await publishAll(a, 'restart', range(1, 20));
      await until(() => onA.events.length === 20 && onB.events.length === 20);

      // 1. Saved, stopped, started again from the snapshot: same history, nothing lost, no reset.
      await redis.cli('SAVE');
      await redis.stop();
      const refused = await a
        .publish('restart', 'lost?')
        .catch((e: { status?: number }) => e.status);
      expect(refused).toBe(503);
      await redis.restart();
      await publishRetrying(b, 'restart', ['21']);
      await publishRetrying(a, 'restart', range(22, 30));
      await until(() => onA.events.length === 30 && onB.events.length === 30);
      for (const s of [onA, onB]) {
        expect(s.data).toEqual(range(1, 30));
        expect(s.connected).toBe(true);
      }

      // 2. Stopped and started empty: the history is gone, which subscribers learn from a reset.
      await redis.cli('FLUSHALL');
      await redis.cli('SAVE');
      await redis.stop();
      await redis.restart();
      await until(() => onA.events.length === 31 && onB.events.length === 31, 10_000, 'the reset');
      await publishRetrying(b, 'restart', ['31']);
      await publishRetrying(a, 'restart', range(32, 40));
      await until(() => onA.events.length === 41 && onB.events.length === 41);
      for (const s of [onA, onB]) {
        expect(s.data).toEqual([...range(1, 30), '<reset>', ...range(31, 40)]);
        expect(s.drops).toBe(0);
      }
    });

    it('sends reset when the Last-Event-ID was trimmed by maxLen, then what is held', async () => {
      const short = servers[2] as ServerProcess;
      const ids = await publishAll(short, 'trim', range(1, 20));
      const s = new Subscriber();
      subs.push(s);
      await s.connect(short.events('trim'), ids[1]);
      await until(() => s.events.length === 6);
      expect(s.data).toEqual(['<reset>', ...range(16, 20)]);
      expect(JSON.parse(s.events[0]?.data ?? '')).toEqual({
        reason: 'evicted',
        lastEventId: ids[1],
      });
      expect(s.events[0]?.id).toBe(ids[1]);
      expect(s.ids).toEqual(ids.slice(15));
    });
  },
);
