import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServerPath, requireTool } from '../support/env.js';
import { listen, publish, startHub, startRedis, stopAll } from './support.js';

const hasRedis = requireTool('redis-server', redisServerPath !== undefined);

describe.runIf(hasRedis)('ssekit serve --redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis(redisServerPath ?? 'redis-server');
  });
  afterAll(async () => {
    await stopAll();
    await redis?.stop();
  });

  it('two hubs on one Redis act as one: events published on either reach subscribers of both, and replay works on the other', async () => {
    const prefix = `t${Date.now()}`;
    const [a, b] = await Promise.all([
      startHub(['--redis', redis.url, '--redis-prefix', prefix]),
      startHub([], { SSEKIT_REDIS_URL: redis.url, SSEKIT_REDIS_PREFIX: prefix }),
    ]);
    const first = (await (await publish(a.url, 'shared', 'from a')).json()) as { ids: string[] };
    // Hub b has never seen "shared", but Redis holds its history: b serves it, no 404.
    const onB = await listen(`${b.url}/events?stream=shared`);
    expect(onB.response.status).toBe(200);
    const onA = await listen(`${a.url}/events?stream=shared`);
    const replayOnB = await listen(`${b.url}/events?stream=shared`, {
      'Last-Event-ID': first.ids[0]!,
    });
    await publish(b.url, 'shared', 'from b');
    await publish(a.url, 'shared', 'from a again');
    for (const sub of [onA, onB, replayOnB]) {
      expect((await sub.waitFor(2)).map((e) => e.data)).toEqual(['from b', 'from a again']);
      sub.close();
    }
    // Ids come from Redis, so both hubs hand out one ordered sequence.
    expect(new Set(onA.events.map((e) => e.id))).toEqual(new Set(onB.events.map((e) => e.id)));
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });

  it('/healthz is 503 and publish is 503 while Redis is unreachable, and recover when it is back', async () => {
    const own = await startRedis(redisServerPath ?? 'redis-server');
    const hub = await startHub(['--redis', own.url]);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    expect((await publish(hub.url, 'h', 'x')).status).toBe(200);
    await own.stop();
    let health = await fetch(`${hub.url}/healthz`);
    for (let i = 0; i < 100 && health.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = await fetch(`${hub.url}/healthz`);
    }
    expect(health.status).toBe(503);
    expect(await health.text()).toMatch(/Redis is unreachable/);
    const failed = await publish(hub.url, 'h', 'lost?');
    expect(failed.status).toBe(503);
    expect(await failed.text()).toMatch(/Could not publish/);
    const back = await startRedis(redisServerPath ?? 'redis-server', own.port);
    for (let i = 0; i < 200 && health.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = await fetch(`${hub.url}/healthz`);
    }
    expect(health.status).toBe(200);
    expect((await publish(hub.url, 'h', 'y')).status).toBe(200);
    expect(hub.stderr()).toMatch(/redis unreachable/);
    expect(await hub.stop()).toBe(0);
    await back.stop();
  });
});
