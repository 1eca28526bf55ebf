import { isCluster, type RedisClient, type RedisCluster } from './connection.js';

/** What `RedisBroker.checkHealth()` answers. */
export type BrokerHealth = { healthy: true } | { healthy: false; reason: string };

/** The connections a broker may use: commands (publish, history) and pub/sub (live events). */
export type LinkName = 'command' | 'pub/sub';

interface Link {
  client: RedisClient | RedisCluster;
  /** For a cluster, the nodes whose connection is failing; for a client, 'self' when failing. */
  failing: Set<string>;
  /** Listeners added to a client the user passed in, taken off again on `silence()`. */
  // biome-ignore lint/suspicious/noExplicitAny: node-redis types listeners so
  added: [event: string, listener: (...args: any[]) => void][];
}

/**
 * One up/down state over every connection a broker uses: up only while all of them are ready,
 * down from the first failure of any. Connections retry on their own and repeat their errors
 * on every attempt; an outage is reported once when it starts and once when it ends.
 */
export class LinkState {
  private readonly links = new Map<LinkName, Link>();
  private outage = false;
  /** Why the last connection attempt failed (a refused connect, WRONGPASS, …), until one is up. */
  lastError: Error | undefined;

  constructor(
    private readonly onDown: (err: Error) => void,
    private readonly onUp: () => void,
  ) {}

  /**
   * Follows a connection's events. `ownErrors`: the broker made this client, so its 'error'
   * events are the broker's to handle; a client the user passed in keeps its own error
   * handling, and its drops show through 'reconnecting' and 'end'.
   */
  track(name: LinkName, client: RedisClient | RedisCluster, ownErrors: boolean): void {
    const link: Link = { client, failing: new Set(), added: [] };
    this.links.set(name, link);
    // biome-ignore lint/suspicious/noExplicitAny: node-redis types listeners so
    const on = (event: string, listener: (...args: any[]) => void) => {
      client.on(event, listener);
      if (!ownErrors) link.added.push([event, listener]);
    };
    const node = (info?: { host?: string; port?: number }) =>
      info?.host === undefined ? 'node' : `${info.host}:${info.port}`;
    const fail = (key: string, err: Error) => {
      link.failing.add(key);
      this.update(err);
    };
    const recover = (key: string) => {
      link.failing.delete(key);
      this.update();
    };
    if (isCluster(client)) {
      if (ownErrors) {
        on('error', (err: Error) => fail('cluster', err));
        on('node-error', (err: Error, info?: { host?: string; port?: number }) =>
          fail(node(info), err),
        );
      }
      on('node-reconnecting', (info?: { host?: string; port?: number }) =>
        fail(node(info), new Error(`lost the connection to Redis node ${node(info)}`)),
      );
      on('node-ready', (info?: { host?: string; port?: number }) => {
        link.failing.delete('cluster');
        link.failing.delete('self');
        recover(node(info));
      });
    } else {
      if (ownErrors) on('error', (err: Error) => fail('self', err));
      on('reconnecting', () => fail('self', new Error('lost the connection to Redis')));
      on('ready', () => recover('self'));
    }
    on('end', () => fail('self', new Error('the connection to Redis was closed')));
  }

  /** A connection failed outside its events (its first connect was refused for good). */
  failed(err: Error): void {
    this.update(err);
  }

  /** Every tracked connection is ready. */
  get up(): boolean {
    for (const link of this.links.values()) {
      if (!link.client.isReady || link.failing.size > 0) return false;
    }
    return this.links.size > 0;
  }

  /** Which connections are not ready, for a person to read; '' when all are. */
  describeDown(): string {
    const down: string[] = [];
    for (const [name, link] of this.links) {
      if (!link.client.isReady || link.failing.size > 0) down.push(name);
    }
    return down.length === 0
      ? ''
      : `the ${down.join(' and ')} connection${down.length > 1 ? 's are' : ' is'} down`;
  }

  /**
   * Stops reporting (the broker is closing its connections on purpose), and takes its listeners
   * off a client the user passed in, which outlives the broker.
   */
  silence(): void {
    this.outage = true;
    for (const link of this.links.values()) {
      for (const [event, listener] of link.added) link.client.off(event, listener);
    }
    this.links.clear();
  }

  private update(err?: Error): void {
    if (err) this.lastError = err;
    else if (this.up) this.lastError = undefined;
    if (err) {
      if (this.outage) return;
      this.outage = true;
      this.onDown(err);
    } else if (this.outage && this.up) {
      this.outage = false;
      this.onUp();
    }
  }
}
