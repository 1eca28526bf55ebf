import type { RedisClientType, RedisClusterType } from 'redis';
import type { LuaScript } from './scripts.js';

// biome-ignore lint/suspicious/noExplicitAny: any client the user configured, whatever its modules, scripts or RESP version
export type RedisClient = RedisClientType<any, any, any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: as above, for a cluster
export type RedisCluster = RedisClusterType<any, any, any, any, any>;

export type MessageHandler = (message: string) => void;

export function isCluster(client: RedisClient | RedisCluster): client is RedisCluster {
  return 'nodeByAddress' in client;
}

/**
 * One seam over a single Redis and a Redis Cluster: commands routed by the stream's key,
 * scripts by SHA with a fallback to the source, and a readiness flag.
 */
export class Connection {
  constructor(
    readonly client: RedisClient | RedisCluster,
    private readonly timeoutMs: number,
  ) {}

  get ready(): boolean {
    return this.client.isReady;
  }

  command<T>(key: string, args: string[]): Promise<T> {
    const options = { timeout: this.timeoutMs };
    const c = this.client;
    return isCluster(c)
      ? c.sendCommand<T>(key, false, args, options)
      : c.sendCommand<T>(args, options);
  }

  /** EVALSHA, and EVAL the first time a server has not seen the script (restart, new node). */
  async script<T>(script: LuaScript, keys: string[], args: string[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command<T>(keys[0] ?? '', ['EVALSHA', script.sha1, ...tail]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.command<T>(keys[0] ?? '', ['EVAL', script.source, ...tail]);
    }
  }
}
