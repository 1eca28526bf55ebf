/**
 * RedisBroker's connections: a client passed in while still connecting, a client closed by its
 * owner, and one up/down state (and health answer) over the command and pub/sub connections.
 */
import { createClient } from 'redis';
import { RedisBroker } from 'ssekit/redis';
import { SSEServer } from 'ssekit/server';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryLimits } from '../../src/broker/types.js';
import { requireTool } from '../support/env.js';
import { haveRedis, RedisServer, until } from './redis-server.js';

const limits: HistoryLimits = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
const body = (data: string) => `data: ${data}\n\n`;
const quiet = () => {};

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

async function privateRedis(): Promise<RedisServer> {
  const redis = await RedisServer.start();
  cleanup.push(() => redis.dispose());
  return redis;
}

describe.runIf(requireTool('redis-server', haveRedis))('RedisBroker connections', () => {
  it('waits for a client passed in while it is still connecting, instead of failing its first calls', async () => {
    const redis = await privateRedis();
    const client = createClient({ url: redis.url });
    client.on('error', quiet);
    const connecting = client.connect();
    expect(client.isOpen).toBe(true);
    expect(client.isReady).toBe(false);
    const b = new RedisBroker({ client, onError: quiet });
    cleanup.push(() => client.close());
    cleanup.push(() => b.close());
    const id = await b.publish('early', { body: body('first') }, limits);
    expect((await b.history('early', 'none', limits)).events.map((e) => e.id)).toEqual([id]);
    await connecting;
  });

  it('takes its listeners off a client passed in when it closes, so brokers come and go freely', async () => {
    const redis = await privateRedis();
    const client = createClient({ url: redis.url });
    client.on('error', quiet);
    await client.connect();
    cleanup.push(() => client.close());
    const events = ['ready', 'reconnecting', 'end', 'error'] as const;
    const count = () => events.map((e) => client.listenerCount(e));
    const before = count();
    for (let i = 0; i < 20; i++) {
      const b = new RedisBroker({ client, onError: quiet });
      await b.publish('s', { body: body(String(i)) }, limits);
      await b.close();
    }
    expect(count()).toEqual(before);
  });

  it('closes, with the server above it, even while Redis hangs without answering', async () => {
    const redis = await privateRedis();
    const broker = new RedisBroker({ url: redis.url, onError: quiet, commandTimeoutMs: 300 });
    const sse = new SSEServer({ broker, keepAliveMs: 0 });
    sse.createStream('hung');
    await sse.publish('hung', 'before');
    await sse.createStream('hung').ready; // listening: closing it unsubscribes
    redis.freeze();
    cleanup.push(async () => redis.thaw());
    const closed = await Promise.race([
      sse
        .close()
        .then(() => broker.close())
        .then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still waiting'), 5000)),
    ]);
    expect(closed).toBe('closed');
  });

  it('says why it cannot connect: a wrong password shows as such, not as "not connected"', async () => {
    const redis = await RedisServer.start(['--requirepass', 'right']);
    cleanup.push(() => redis.dispose());
    const url = redis.url.replace('redis://', 'redis://:wrong@');
    const b = new RedisBroker({ url, onError: quiet, connectTimeoutMs: 500 });
    cleanup.push(() => b.close());
    const err = await b.publish('s', { body: body('x') }, limits).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/WRONGPASS|invalid username-password/);
  });

  it('says clearly that a client passed in was closed by its owner', async () => {
    const redis = await privateRedis();
    const client = createClient({ url: redis.url });
    client.on('error', quiet);
    await client.connect();
    const b = new RedisBroker({ client, onError: quiet });
    cleanup.push(() => b.close());
    await b.publish('owned', { body: body('1') }, limits);
    await client.close();
    const err = await b.publish('owned', { body: body('2') }, limits).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BROKER_CLIENT_CLOSED', name: 'BrokerClientClosedError' });
    expect((err as Error).message).toMatch(/passed to RedisBroker.*has been closed.*"owned"/);
    expect(await b.checkHealth()).toEqual({
      healthy: false,
      reason: expect.stringMatching(/has been closed/),
    });
  });

  it('is up only while both its command and pub/sub connections are, and reports each outage once', async () => {
    const redis = await privateRedis();
    const states: string[] = [];
    const errors: string[] = [];
    const b = new RedisBroker({
      url: redis.url,
      onError: (e) => errors.push(e.message),
      onStateChange: (s) => states.push(`${s}${s === 'up' ? `:${b.connected}` : ''}`),
    });
    cleanup.push(() => b.close());
    await b.listen('watched', { onEvent: quiet });
    expect(b.connected).toBe(true);
    expect(await b.checkHealth()).toEqual({ healthy: true });

    // Only the pub/sub connection drops: the broker is down until it is back.
    await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await until(() => states.length === 2, 10_000, 'down, then up again');
    expect(states).toEqual(['down', 'up:true']);
    expect(errors).toHaveLength(1);

    // Redis itself goes: one more outage, reported once however often both retry.
    await redis.stop();
    await until(() => states.length === 3, 10_000, 'down');
    expect(b.connected).toBe(false);
    expect(await b.checkHealth()).toEqual({
      healthy: false,
      reason: expect.stringMatching(/^the (command|pub\/sub).* down$/),
    });
    await new Promise((r) => setTimeout(r, 1500)); // several reconnect attempts fail meanwhile
    expect(errors).toHaveLength(2);
    await redis.restart();
    await until(() => states.length === 4, 10_000, 'up');
    expect(states).toEqual(['down', 'up:true', 'down', 'up:true']);
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatch(/Redis is unreachable/);
    expect(await b.checkHealth()).toEqual({ healthy: true });
  });
});
