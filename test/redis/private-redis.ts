import { RedisBroker, type RedisBrokerOptions } from 'ssekit/redis';
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from './redis-server.js';

/**
 * A private redis-server for one describe block, and RedisBrokers on it made with `broker()`;
 * all of them are closed after the block.
 */
export function privateRedis(defaults: RedisBrokerOptions = {}) {
  const brokers: RedisBroker[] = [];
  const env = {
    redis: undefined as unknown as RedisServer,
    broker(opts: RedisBrokerOptions = {}): RedisBroker {
      const b = new RedisBroker({ url: env.redis.url, ...defaults, ...opts });
      brokers.push(b);
      return b;
    },
  };
  beforeAll(async () => {
    env.redis = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await env.redis?.dispose();
  });
  return env;
}
