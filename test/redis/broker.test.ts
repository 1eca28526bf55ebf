import { createClient, RESP_TYPES } from 'redis';
import { RedisBroker } from 'ssekit/redis';
import { describe, expect, it } from 'vitest';
import type { BrokerEvent, HistoryLimits } from '../../src/broker/types.js';
import { requireTool } from '../support/env.js';
import { privateRedis } from './private-redis.js';
import { haveRedis, RedisServer, sleep, until } from './redis-server.js';

const limits: HistoryLimits = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
const body = (data: string) => `data: ${data}\n\n`;
const quiet = () => {};

/** Records what a broker delivers for one stream. */
function recorder() {
  const events: BrokerEvent[] = [];
  const gaps: string[] = [];
  return {
    events,
    gaps,
    listener: { onEvent: (e: BrokerEvent) => events.push(e), onGap: (r: string) => gaps.push(r) },
    data: () => events.map((e) => e.body),
  };
}

describe.runIf(requireTool('redis-server', haveRedis))('RedisBroker against a real Redis', () => {
  const env = privateRedis({ onError: quiet });
  const { broker } = env;

  it('gives increasing ids and replays exactly the events after a given id', async () => {
    const b = broker();
    const ids: string[] = [];
    for (const d of ['a', 'b', 'c', 'd'])
      ids.push(await b.publish('s1', { body: body(d) }, limits));
    expect(new Set(ids).size).toBe(4);
    const seqs = ids.map((id) => Number(id.split('-')[0]));
    expect(seqs).toEqual([seqs[0], (seqs[0] ?? 0) + 1, (seqs[0] ?? 0) + 2, (seqs[0] ?? 0) + 3]);

    const after = await b.history('s1', ids[1] as string, limits);
    expect(after).toEqual({
      resumable: true,
      events: [
        { seq: seqs[2], id: ids[2], time: expect.any(Number), body: body('c') },
        { seq: seqs[3], id: ids[3], time: expect.any(Number), body: body('d') },
      ],
    });
    expect(await b.history('s1', ids[3] as string, limits)).toEqual({
      resumable: true,
      events: [],
    });

    const unknown = await b.history('s1', 'no-such-id', limits);
    expect(unknown.resumable).toBe(false);
    expect(unknown.events.map((e) => e.body)).toEqual(['a', 'b', 'c', 'd'].map(body));
  });

  it("keeps a publisher's own ids and resumes from them", async () => {
    const b = broker();
    expect(await b.publish('s2', { body: body('1'), id: 'order-1' }, limits)).toBe('order-1');
    await b.publish('s2', { body: body('2'), id: 'order-2' }, limits);
    const own = await b.publish('s2', { body: body('3') }, limits);
    await b.publish('s2', { body: body('4'), id: 'order-4' }, limits);
    const r = await b.history('s2', 'order-2', limits);
    expect(r.resumable).toBe(true);
    expect(r.events.map((e) => e.id)).toEqual([own, 'order-4']);
    expect((await b.history('s2', own, limits)).events.map((e) => e.id)).toEqual(['order-4']);
  });

  it('delivers live events in publish order with the same seq as history', async () => {
    const b = broker();
    const rec = recorder();
    const unlisten = await b.listen('s3', rec.listener);
    for (let i = 0; i < 50; i++) await b.publish('s3', { body: body(String(i)) }, limits);
    await until(() => rec.events.length === 50);
    const held = await b.history('s3', 'none', limits);
    expect(rec.events).toEqual(held.events);
    expect(rec.data()).toEqual(Array.from({ length: 50 }, (_, i) => body(String(i))));
    await unlisten();
  });

  it('says an evicted id cannot be resumed, and still returns all it holds', async () => {
    const b = broker({ maxLen: 3 });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await b.publish('s4', { body: body(String(i)) }, limits));
    const r = await b.history('s4', ids[0] as string, limits);
    expect(r).toEqual({
      resumable: false,
      reason: 'evicted',
      events: expect.any(Array),
    });
    expect(r.events.map((e) => e.id)).toEqual(ids.slice(2));
    // The oldest held id still resumes.
    expect((await b.history('s4', ids[2] as string, limits)).events.map((e) => e.id)).toEqual(
      ids.slice(3),
    );
    // The server's own limit applies too.
    const b2 = broker();
    for (let i = 1; i <= 5; i++)
      await b2.publish('s4b', { body: body(String(i)) }, { ...limits, maxEvents: 2 });
    expect((await b2.history('s4b', '', limits)).events.map((e) => e.body)).toEqual([
      body('4'),
      body('5'),
    ]);
  });

  it('drops events older than maxAgeMs', async () => {
    const b = broker();
    const aged = { maxEvents: 100, maxAgeMs: 100 };
    const old = await b.publish('s5', { body: body('old') }, aged);
    await sleep(250);
    const fresh = await b.publish('s5', { body: body('fresh') }, aged);
    const r = await b.history('s5', old, aged);
    expect(r).toEqual({
      resumable: false,
      reason: 'expired',
      events: expect.any(Array),
    });
    expect(r.events.map((e) => e.id)).toEqual([fresh]);
    // The publish script trimmed the old entry from Redis itself.
    expect(await env.redis.cli('XLEN', 'ssekit:{s5}:history')).toBe('1');
    // And the keys expire: a stream nobody publishes to leaves nothing behind for long. On a
    // loaded machine the 100 ms may be over by now (-2: the key is gone, as it should be);
    // -1 would mean no expiry at all.
    const ttl = Number(await env.redis.cli('PTTL', 'ssekit:{s5}:history'));
    if (ttl !== -2) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(100);
    }
    expect(Number(await env.redis.cli('PTTL', 'ssekit:{s5}:meta'))).toBeGreaterThan(86_000_000);
  });

  it('keeps two keyPrefixes apart', async () => {
    const a = broker({ keyPrefix: 'app-a' });
    const b = broker({ keyPrefix: 'app-b' });
    const ra = recorder();
    const rb = recorder();
    await a.listen('shared', ra.listener);
    await b.listen('shared', rb.listener);
    await a.publish('shared', { body: body('for a') }, limits);
    await b.publish('shared', { body: body('for b') }, limits);
    await until(() => ra.events.length === 1 && rb.events.length === 1);
    await sleep(50);
    expect(ra.data()).toEqual([body('for a')]);
    expect(rb.data()).toEqual([body('for b')]);
    expect((await a.history('shared', '', limits)).events.map((e) => e.body)).toEqual([
      body('for a'),
    ]);
    const keys = (await env.redis.cli('--scan', '--pattern', '*shared*')).split('\n').sort();
    expect(keys).toEqual([
      'app-a:{shared}:history',
      'app-a:{shared}:meta',
      'app-b:{shared}:history',
      'app-b:{shared}:meta',
    ]);
  });

  it('orders concurrent publishes from two brokers the same way for every listener', async () => {
    const pubA = broker();
    const pubB = broker();
    const other = broker();
    const recs = [recorder(), recorder(), recorder()];
    await pubA.listen('s6', recs[0]!.listener);
    await pubB.listen('s6', recs[1]!.listener);
    await other.listen('s6', recs[2]!.listener);
    const n = 300;
    await Promise.all([
      Promise.all(
        Array.from({ length: n }, (_, i) => pubA.publish('s6', { body: body(`A${i}`) }, limits)),
      ),
      Promise.all(
        Array.from({ length: n }, (_, i) => pubB.publish('s6', { body: body(`B${i}`) }, limits)),
      ),
    ]);
    await until(() => recs.every((r) => r.events.length === 2 * n));
    const order = (await other.history('s6', '', limits)).events.map((e) => e.id);
    expect(order.length).toBe(2 * n);
    for (const r of recs) {
      expect(r.events.map((e) => e.id)).toEqual(order);
      expect(r.gaps).toEqual([]);
      // Each publisher's own events keep their order.
      expect(r.data().filter((d) => d.includes('A'))).toEqual(
        Array.from({ length: n }, (_, i) => body(`A${i}`)),
      );
    }
  });

  it('catches up from history after its pub/sub connection is cut, with no gap', async () => {
    const listening = broker();
    const publisher = broker();
    const rec = recorder();
    await listening.listen('s7', rec.listener);
    for (let i = 0; i < 5; i++) await publisher.publish('s7', { body: body(String(i)) }, limits);
    await until(() => rec.events.length === 5);
    await env.redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    // Published while the subscriber reconnects: missed by pub/sub, recovered from history.
    for (let i = 5; i < 10; i++) await publisher.publish('s7', { body: body(String(i)) }, limits);
    await until(() => rec.events.length === 10);
    expect(rec.data()).toEqual(Array.from({ length: 10 }, (_, i) => body(String(i))));
    expect(rec.gaps).toEqual([]);
  });

  it('says an id from before FLUSHALL cannot be resumed, and tells listeners', async () => {
    const b = broker();
    const rec = recorder();
    await b.listen('s8', rec.listener);
    const before = await b.publish('s8', { body: body('before') }, limits);
    await until(() => rec.events.length === 1);
    await env.redis.cli('FLUSHALL');
    const after = await b.publish('s8', { body: body('after') }, limits);
    expect(after.split('-')[1]).not.toBe(before.split('-')[1]);
    expect(Number(after.split('-')[0])).toBeGreaterThan(Number(before.split('-')[0]));
    const r = await b.history('s8', before, limits);
    expect(r).toEqual({
      resumable: false,
      reason: 'unknown',
      events: expect.any(Array),
    });
    expect(r.events.map((e) => e.id)).toEqual([after]);
    await until(() => rec.events.length === 2);
    expect(rec.data()).toEqual([body('before'), body('after')]);
    expect(rec.gaps).toHaveLength(1);
  });

  it('shares one subscription per stream among listeners, and ends it with the last', async () => {
    const b = broker();
    const one = recorder();
    const two = recorder();
    const stopOne = await b.listen('s10', one.listener);
    const stopTwo = await b.listen('s10', two.listener);
    expect(await env.redis.cli('PUBSUB', 'NUMSUB', 'ssekit:{s10}:live')).toBe(
      'ssekit:{s10}:live\n1',
    );
    expect(b.tryPublish('s10', { body: body('1') }, limits)).toBe(true);
    await until(() => one.events.length === 1 && two.events.length === 1);
    await stopOne();
    await b.publish('s10', { body: body('2') }, limits);
    await until(() => two.events.length === 2);
    expect(one.data()).toEqual([body('1')]);
    await stopTwo();
    expect(await env.redis.cli('PUBSUB', 'NUMSUB', 'ssekit:{s10}:live')).toBe(
      'ssekit:{s10}:live\n0',
    );
  });

  it('accepts an existing client, whatever its RESP version and type mapping, and leaves it open', async () => {
    const client = createClient({
      url: env.redis.url,
      RESP: 2,
      commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
    });
    client.on('error', quiet);
    await client.connect();
    const b = new RedisBroker({ client, onError: quiet });
    const rec = recorder();
    await b.listen('s9', rec.listener);
    const id = await b.publish('s9', { body: body('x') }, limits);
    expect((await b.history('s9', 'x', limits)).events.map((e) => e.id)).toEqual([id]);
    await until(() => rec.events.length === 1);
    expect(rec.events[0]).toMatchObject({ id, body: body('x') });
    await b.close();
    expect(client.isReady).toBe(true);
    await expect(b.publish('s9', { body: body('y') }, limits)).rejects.toMatchObject({
      code: 'BROKER_CLOSED',
    });
    await client.close();
  });
});

describe.runIf(requireTool('redis-server', haveRedis))('RedisBroker while Redis is down', () => {
  it('rejects publishes at once, keeps listeners, and reports the lost history on return', async () => {
    const redis = await RedisServer.start();
    const b = new RedisBroker({ url: redis.url, onError: quiet });
    try {
      const rec = recorder();
      await b.listen('down', rec.listener);
      await b.publish('down', { body: body('1') }, limits);
      await until(() => rec.events.length === 1);

      await redis.stop();
      await until(
        () => !b.tryPublish('down', { body: body('x') }, limits),
        5000,
        'the broker to notice',
      );
      const err = await b.publish('down', { body: body('2') }, limits).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BROKER_UNAVAILABLE', name: 'BrokerUnavailableError' });
      expect(String((err as Error).message)).toMatch(/Redis is unreachable.*"down"/);
      expect(b.tryPublish('down', { body: body('3') }, limits)).toBe(false);

      // Back, but empty (no persistence): the history is gone, which listeners are told.
      await redis.restart();
      await until(() => rec.gaps.length === 1, 10_000, 'a gap report');
      expect(rec.gaps[0]).toBe('lost');
      await until(async () => {
        try {
          await b.publish('down', { body: body('4') }, limits);
          return true;
        } catch {
          return false;
        }
      });
      await until(() => rec.events.length === 2);
      expect(rec.data()).toEqual([body('1'), body('4')]);
    } finally {
      await b.close();
      await redis.dispose();
    }
  });

  it('tells listeners of a stream that had no history that events may be lost when Redis restarts empty', async () => {
    // Such a stream has no epoch to compare: an event published just before the crash and never
    // delivered would otherwise go unnoticed, as the next epoch looks like the first.
    const redis = await RedisServer.start();
    const b = new RedisBroker({ url: redis.url, onError: quiet });
    try {
      const rec = recorder();
      await b.listen('fresh', rec.listener);
      await redis.stop();
      await redis.restart();
      await until(async () => {
        try {
          await b.publish('fresh', { body: body('after') }, limits);
          return true;
        } catch {
          return false;
        }
      });
      await until(() => rec.events.length === 1, 10_000, 'the event after the restart');
      expect(rec.gaps).toEqual(['lost']);
      expect(rec.data()).toEqual([body('after')]);
    } finally {
      await b.close();
      await redis.dispose();
    }
  });

  it('rejects the first publish when Redis was never reachable', async () => {
    const redis = await RedisServer.start();
    await redis.stop();
    const b = new RedisBroker({ url: redis.url, onError: quiet, connectTimeoutMs: 300 });
    try {
      await expect(b.publish('never', { body: body('1') }, limits)).rejects.toMatchObject({
        code: 'BROKER_UNAVAILABLE',
      });
      await expect(b.listen('never', recorder().listener)).rejects.toMatchObject({
        code: 'BROKER_UNAVAILABLE',
      });
      expect(b.tryPublish('never', { body: body('1') }, limits)).toBe(false);
    } finally {
      await b.close();
      await redis.dispose();
    }
  });
});
