import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServerPath, requireTool } from '../support/env.js';
import { listen, publish, startHub, startRedis, stopAll, until } from './support.js';

const hasRedis = requireTool('redis-server', redisServerPath !== undefined);

/** GET /healthz every 50 ms until `done(status)`, at most `tries` times; the last response. */
async function healthz(url: string, done: (status: number) => boolean, tries: number) {
  let health = await fetch(`${url}/healthz`);
  for (let i = 0; i < tries && !done(health.status); i++) {
    await new Promise((r) => setTimeout(r, 50));
    health = await fetch(`${url}/healthz`);
  }
  return health;
}

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
    let health = await healthz(hub.url, (status) => status !== 200, 100);
    expect(health.status).toBe(503);
    expect(await health.text()).toMatch(/Redis is unreachable/);
    const failed = await publish(hub.url, 'h', 'lost?');
    expect(failed.status).toBe(503);
    expect(await failed.text()).toMatch(/Could not publish/);
    const back = await startRedis(redisServerPath ?? 'redis-server', own.port);
    health = await healthz(hub.url, (status) => status === 200, 200);
    expect(health.status).toBe(200);
    expect((await publish(hub.url, 'h', 'y')).status).toBe(200);
    // The broker owns the hub's connections: the outage is logged once, and its end once.
    const outageLines = () =>
      hub
        .stderr()
        .split('\n')
        .filter((l) => /unreachable/i.test(l) && !/publish failed/.test(l));
    expect(outageLines()).toEqual([expect.stringMatching(/WARN redis unreachable/)]);
    await until(() => /redis reachable again/.test(hub.stderr()), 10_000, 'the recovery log');
    expect(hub.stderr().match(/redis reachable again/g)).toHaveLength(1);
    expect(await hub.stop()).toBe(0);
    await back.stop();
  });

  it('answers 503 with Retry-After for an unknown stream while Redis cannot say whether it exists, and serves normally once Redis is back', async () => {
    const own = await startRedis(redisServerPath ?? 'redis-server');
    const hub = await startHub(['--redis', own.url]);
    expect((await publish(hub.url, 'known', 'x')).status).toBe(200);
    await own.stop();
    let health = await healthz(hub.url, (status) => status !== 200, 100);
    expect(health.status).toBe(503);

    const unsure = await fetch(`${hub.url}/events?stream=elsewhere`);
    expect(unsure.status).toBe(503);
    expect(unsure.headers.get('retry-after')).toBe('1');
    expect(await unsure.text()).toMatch(
      /Cannot tell whether stream "elsewhere" exists: Redis is unreachable.*retry shortly/,
    );

    const back = await startRedis(redisServerPath ?? 'redis-server', own.port);
    health = await healthz(hub.url, (status) => status === 200, 200);
    expect(health.status).toBe(200);
    // Redis restarted empty: the stream is unknown, which the hub can now say for sure.
    const missing = await fetch(`${hub.url}/events?stream=elsewhere`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/Stream "elsewhere" does not exist yet/);
    expect((await publish(hub.url, 'elsewhere', 'now it does')).status).toBe(200);
    const sub = await listen(`${hub.url}/events?stream=elsewhere`);
    expect(sub.response.status).toBe(200);
    await publish(hub.url, 'elsewhere', 'live');
    expect((await sub.waitFor(1)).map((e) => e.data)).toEqual(['live']);
    sub.close();
    expect(await hub.stop()).toBe(0);
    await back.stop();
  });
});
