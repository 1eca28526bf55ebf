import type { LuaScript } from './scripts.js';

/** A pub/sub listener as node-redis types it (generic over string and Buffer messages). */
type MessageListener = <T extends string | Buffer>(message: T, channel: T) => unknown;

/**
 * What the broker needs of a node-redis client (`createClient()`), whatever its modules,
 * scripts, RESP version or type mapping.
 */
export interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(overrides?: { disableOfflineQueue?: boolean }): RedisClient;
  sendCommand<T>(args: ReadonlyArray<string>, options?: { timeout?: number }): Promise<T>;
  subscribe(channel: string, listener: MessageListener): Promise<void>;
  unsubscribe(channel: string, listener: MessageListener): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis types listeners so
  on(event: string, listener: (...args: any[]) => void): unknown;
  close(): Promise<void>;
  destroy(): void;
}

/** What the broker needs of a node-redis cluster (`createCluster()`). */
export interface RedisCluster extends Omit<RedisClient, 'duplicate' | 'sendCommand'> {
  readonly nodeByAddress: unknown;
  duplicate(): RedisCluster;
  sendCommand<T>(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<T>;
}

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
