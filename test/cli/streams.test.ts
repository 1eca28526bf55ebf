import { RedisBroker } from 'ssekit/redis';
import { MemoryBroker, SSEServer } from 'ssekit/server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HubStreams } from '../../src/cli/streams.js';
import { haveRedis, RedisServer } from '../redis/redis-server.js';
import { requireTool } from '../support/env.js';
import { type HubProcess, listen, publish, startHub, stopAll, until } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function hubStreams(opts: { max?: number; redis?: RedisBroker } = {}) {
  const broker = opts.redis ?? new MemoryBroker();
  const sse = new SSEServer({ broker });
  cleanups.push(() => sse.close());
  const subscribers = new Map<string, number>();
  const holdsHistory = async (s: string) =>
    (await broker.history(s, '', { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY })).events
      .length > 0;
  const streams = new HubStreams(sse, holdsHistory, (s) => subscribers.get(s) ?? 0, {
    max: opts.max ?? 100,
    idleMs: 60_000,
    historyOutlivesStream: opts.redis !== undefined,
  });
  return { sse, streams, subscribers };
}

describe('hub streams: created on demand, let go when idle', () => {
  it('lets go of an idle stream that has no subscriber and no history', async () => {
    const { sse, streams } = hubStreams();
    expect(streams.open('empty')).toBeUndefined();
    expect(sse.streamExists('empty')).toBe(true);
    const now = Date.now();
    expect(await streams.sweep(now + 59_000)).toBe(0); // not idle long enough
    expect(await streams.sweep(now + 61_000)).toBe(1);
    expect(sse.streamExists('empty')).toBe(false);
    expect(streams.size).toBe(0);
  });

  it('keeps a stream while it has a subscriber, or history held only in memory', async () => {
    const { sse, streams, subscribers } = hubStreams();
    streams.open('watched');
    subscribers.set('watched', 1);
    streams.open('kept');
    await sse.publish('kept', 'only here');
    expect(await streams.sweep(Date.now() + 120_000)).toBe(0);
    expect(sse.streamExists('watched')).toBe(true);
    expect(sse.streamExists('kept')).toBe(true);
    subscribers.set('watched', 0);
    expect(await streams.sweep(Date.now() + 120_000)).toBe(1);
    expect(sse.streamExists('watched')).toBe(false);
  });

  it('counts idleness from the last use', async () => {
    const { sse, streams } = hubStreams();
    streams.open('busy');
    const later = Date.now() + 50_000;
    const realNow = Date.now;
    Date.now = () => later;
    try {
      streams.touch('busy');
    } finally {
      Date.now = realNow;
    }
    expect(await streams.sweep(later + 30_000)).toBe(0);
    expect(sse.streamExists('busy')).toBe(true);
  });

  it('refuses a stream past the maximum with 503 and a reason, and has room again after a sweep', async () => {
    const { sse, streams } = hubStreams({ max: 2 });
    expect(streams.open('a')).toBeUndefined();
    expect(streams.open('b')).toBeUndefined();
    expect(streams.open('a')).toBeUndefined(); // existing streams are always fine
    const refused = streams.open('c');
    expect(refused).toEqual({
      status: 503,
      reason:
        'This hub holds its maximum of 2 streams (--max-streams); retry later, or raise the limit.',
    });
    expect(sse.streamExists('c')).toBe(false);
    await streams.sweep(Date.now() + 61_000);
    expect(streams.open('c')).toBeUndefined();
  });
});

describe.runIf(requireTool('redis-server', haveRedis))('hub streams on Redis', () => {
  it('lets go of an idle stream with history: the history stays in Redis', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const broker = new RedisBroker({ url: redis.url });
    cleanups.push(() => broker.close());
    const { sse, streams } = hubStreams({ redis: broker });
    streams.open('jobs');
    const first = await sse.publish('jobs', 'one');
    await sse.publish('jobs', 'two');
    expect(await streams.sweep(Date.now() + 61_000)).toBe(1);
    expect(sse.streamExists('jobs')).toBe(false);
    const held = await broker.history('jobs', first, {
      maxEvents: 1000,
      maxAgeMs: Number.POSITIVE_INFINITY,
    });
    expect(held.resumable).toBe(true);
    expect(held.events.map((e) => e.body)).toEqual([expect.stringContaining('data: two\n')]);
  });
});

describe('ssekit serve: how many streams, and for how long', () => {
  afterAll(stopAll);

  const streamCount = async (hub: HubProcess) => {
    const text = await (await fetch(`${hub.url}/metrics`)).text();
    return Number(/^ssekit_streams (\d+)$/m.exec(text)?.[1]);
  };

  it('--max-streams: one stream more is refused with 503, a reason and Retry-After', async () => {
    const hub = await startHub(['--max-streams', '2']);
    expect((await publish(hub.url, 'a', 'one')).status).toBe(200);
    expect((await publish(hub.url, 'b', 'two')).status).toBe(200);
    expect((await publish(hub.url, 'a', 'three')).status).toBe(200); // an existing stream
    const refused = await publish(hub.url, 'c', 'four');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.text()).toBe(
      'This hub holds its maximum of 2 streams (--max-streams); retry later, or raise the limit.\n',
    );
    expect(await streamCount(hub)).toBe(2);
  });

  it('--stream-idle: a stream nobody uses is let go, and comes back when used', async () => {
    const hub = await startHub(['--auto-stream', '--stream-idle', '1000']);
    const sub = await listen(`${hub.url}/events?stream=passing`);
    expect(sub.response.status).toBe(200);
    expect(await streamCount(hub)).toBe(1);
    sub.close();
    let count = 1;
    const poll = setInterval(async () => {
      count = await streamCount(hub);
    }, 100);
    await until(() => count === 0, 10_000, 'the idle stream to be let go').finally(() =>
      clearInterval(poll),
    );
    const again = await listen(`${hub.url}/events?stream=passing`);
    expect((await publish(hub.url, 'passing', 'back')).status).toBe(200);
    expect((await again.waitFor(1)).map((e) => e.data)).toEqual(['back']);
    again.close();
  });
});
