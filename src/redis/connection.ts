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
  sendCommand<T>(
    args: ReadonlyArray<string>,
    options?: { timeout?: number; typeMapping?: object },
  ): Promise<T>;
  subscribe(channel: string, listener: MessageListener): Promise<void>;
  unsubscribe(channel: string, listener: MessageListener): Promise<void>;
  sSubscribe(channel: string, listener: MessageListener): Promise<void>;
  sUnsubscribe(channel: string, listener: MessageListener): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis types listeners so
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis types listeners so
  once(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis types listeners so
  off(event: string, listener: (...args: any[]) => void): unknown;
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
    options?: { timeout?: number; typeMapping?: object },
  ): Promise<T>;
}

export function isCluster(client: RedisClient | RedisCluster): client is RedisCluster {
  return 'nodeByAddress' in client;
}

interface Pending {
  start: number;
  reject: (err: Error) => void;
}

/**
 * One seam over a single Redis and a Redis Cluster: commands routed by the stream's key,
 * scripts by SHA with a fallback to the source, a readiness flag, and a time limit on answers.
 *
 * node-redis can time out each command itself, but it arms an `AbortSignal.timeout` per command,
 * which costs several times the command (measured: 11k PING/s with it, 98k without). One timer
 * over all calls in flight does the same job: calls start in order, so the oldest are checked
 * first and the scan stops at the first one still within its time.
 */
export class Connection {
  private readonly inflight = new Set<Pending>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    readonly client: RedisClient | RedisCluster,
    private readonly timeoutMs: number,
    private readonly timeoutError: () => Error,
  ) {}

  get ready(): boolean {
    return this.client.isReady;
  }

  command<T>(key: string, args: string[]): Promise<T> {
    // timeout 0: no per-command timer in node-redis (see above), whatever the client's default;
    // an empty type mapping: replies as plain strings and arrays, whatever the client maps.
    const options = { timeout: 0, typeMapping: {} };
    const c = this.client;
    const reply = isCluster(c)
      ? c.sendCommand<T>(key, false, args, options)
      : c.sendCommand<T>(args, options);
    return this.timeoutMs > 0 && Number.isFinite(this.timeoutMs) ? this.guard(reply) : reply;
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

  /** Stops the timer; calls still in flight settle as Redis answers them. */
  stop(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private guard<T>(reply: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { start: performance.now(), reject };
      this.inflight.add(entry);
      this.watchdog ??= setInterval(
        () => this.expire(),
        Math.min(1000, this.timeoutMs / 4),
      ).unref();
      reply.then(
        (value) => {
          this.inflight.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.inflight.delete(entry);
          reject(err);
        },
      );
    });
  }

  private expire(): void {
    const limit = performance.now() - this.timeoutMs;
    for (const entry of this.inflight) {
      if (entry.start > limit) break;
      this.inflight.delete(entry);
      entry.reject(this.timeoutError());
    }
    if (this.inflight.size === 0) this.stop();
  }
}
