import { randomBytes } from 'node:crypto';
import { createClient, ErrorReply, TimeoutError } from 'redis';
import type {
  Broker,
  BrokerEvent,
  BrokerListener,
  BrokerMessage,
  HistoryLimits,
  HistoryResult,
  ResetReason,
} from '../broker/types.js';
import { Connection, isCluster, type RedisClient, type RedisCluster } from './connection.js';
import {
  BrokerClientClosedError,
  BrokerClosedError,
  BrokerReplyError,
  BrokerUnavailableError,
} from './errors.js';
import { type HeadRead, LiveFeed } from './feed.js';
import { type BrokerHealth, LinkState } from './health.js';
import { OWN_ID, type RecentLimits } from './recent.js';
import { HISTORY, PUBLISH, READ } from './scripts.js';

export interface RedisBrokerOptions {
  /** `redis://…` or `rediss://…`; the broker creates, owns and closes the client. Default: redis://127.0.0.1:6379. */
  url?: string;
  /**
   * A node-redis client (`createClient`) or cluster (`createCluster`) to use instead of `url`.
   * It is connected if it is not yet (calls wait for it up to `connectTimeoutMs`), and left
   * open by `close()`; closing it while the broker uses it makes calls fail with
   * `BROKER_CLIENT_CLOSED`. The broker takes one more connection for pub/sub with `duplicate()`.
   */
  client?: RedisClient | RedisCluster;
  /** Starts every key and channel the broker uses; brokers with different prefixes never meet. Default 'ssekit'. */
  keyPrefix?: string;
  /**
   * Announce events with sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis ≥ 7): each event goes
   * only to the node that owns its stream instead of to every node of a cluster.
   * Default: true for a cluster client, false otherwise.
   */
  shardedPubSub?: boolean;
  /** Bounds each stream's history in Redis (also bounded by the server's `history.maxEvents`). */
  maxLen?: number;
  /**
   * How long a call waits for Redis to answer before it rejects with `BROKER_UNAVAILABLE`
   * (a hung server, or far more publishes in flight than Redis can take). Default 10000 ms.
   * A connection that is down fails calls at once, whatever this is.
   */
  commandTimeoutMs?: number;
  /** How long calls wait for the very first connection to Redis. Default 2000 ms. */
  connectTimeoutMs?: number;
  /**
   * The newest events of each stream this process listens to, kept in memory so that a client
   * reconnecting after a short drop is replayed from here: Redis is asked only whether that
   * history still stands (one HMGET, shared by the resumes of one event-loop turn), not for the
   * events. Older ids are read from Redis as before. `false` turns it off.
   * Default `{ maxEvents: 100, maxBytes: 65536 }` per stream.
   */
  resumeCache?: { maxEvents?: number; maxBytes?: number } | false;
  /** `tryPublish` returns false while this many of its publishes are still in flight. Default 10000. */
  maxPendingPublishes?: number;
  /**
   * Errors nobody awaits: a `tryPublish` that Redis refused, a lost connection, a failed catch-up.
   * Default: `console.error`, once per outage for connection errors.
   */
  onError?: (error: Error) => void;
  /**
   * Called with 'down' when an outage starts (any connection the broker uses is lost; the same
   * moment `onError` reports it) and with 'up' when every connection is ready again.
   */
  onStateChange?: (state: 'up' | 'down') => void;
}

const EPOCH_LENGTH = 10;

const newEpoch = () => randomBytes(EPOCH_LENGTH / 2).toString('hex');

type Fields = [string, string, string, string, string, string];
type Entry = [string, Fields];
/** The history script's reply: epoch, Redis time, the found entry's id and time, entries. */
type HistoryReply = [string | null, string, string | null, string | null, Entry[]];

function toEvent(entry: Entry): BrokerEvent {
  const [entryId, f] = entry;
  return {
    seq: Number(entryId.slice(0, entryId.indexOf('-'))),
    id: f[1],
    time: Number(f[3]),
    body: f[5],
  };
}

/**
 * Events per read when a live feed catches up (after a pub/sub reconnect, every listened stream
 * at once): bounds each reply, so a long outage does not turn into huge replies that hold up
 * the publishes sharing the connection.
 */
const CATCH_UP_PAGE = 500;

/** Whether `work` settles (resolves or rejects) within `ms`; it is not waited for past that. */
async function settledWithin(work: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    (work ?? Promise.resolve()).then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** Reply errors that mean "not now" rather than "wrong". */
const TRANSIENT = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY)\b/;

/**
 * A `Broker` on Redis, so that any number of `SSEServer` processes sharing one Redis (or Redis
 * Cluster) act as one server.
 *
 * Per stream it keeps three names, `<keyPrefix>:{<stream>}:…`, whose hash tag (the stream name)
 * puts them in one cluster slot: `…:meta` (epoch and seq counter), `…:history` (a Redis Stream)
 * and the pub/sub channel `…:live`. Publishing is one Lua script that takes the next seq,
 * appends to history, trims it and publishes the event, so live delivery and history agree.
 */
export class RedisBroker implements Broker {
  readonly keyPrefix: string;
  private readonly maxLen: number;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxPending: number;
  private readonly conn: Connection;
  private readonly owned: boolean;
  private readonly sharded: boolean;
  private readonly reportError: (error: Error) => void;
  /** Settles when the command connection is first ready (never rejects). */
  private readonly firstReady: Promise<void>;
  private everReady = false;
  private readonly links: LinkState;
  private readonly feeds = new Map<string, LiveFeed>();
  private readonly recentLimits: RecentLimits;
  /** Reads asked for in this turn of the event loop, by what they read (see `batched`). */
  private readonly batch = new Map<string, Promise<unknown>>();
  private sub: { client: RedisClient | RedisCluster; connected: Promise<unknown> } | undefined;
  private pending = 0;
  /** The Redis instance the pub/sub connection last reached (INFO server's run_id). */
  private runId: string | undefined;
  /** Offered to the publish script as the epoch of a stream that has none; renewed once taken. */
  private epochCandidate = newEpoch();
  private closed = false;

  constructor(options: RedisBrokerOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'ssekit';
    this.maxLen = options.maxLen ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.commandTimeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.maxPending = options.maxPendingPublishes ?? 10_000;
    this.reportError = options.onError ?? ((e) => console.error(`ssekit/redis: ${e.message}`));
    if (options.client && options.url)
      throw new TypeError('RedisBroker: pass either `url` or `client`, not both');
    if (!(this.maxLen >= 0)) throw new RangeError('RedisBroker: maxLen must be a number ≥ 0');
    const cache = options.resumeCache ?? {};
    this.recentLimits = {
      maxEvents: cache === false ? 0 : (cache.maxEvents ?? 100),
      maxBytes: cache === false ? 0 : (cache.maxBytes ?? 65_536),
    };
    if (!(this.recentLimits.maxEvents >= 0 && this.recentLimits.maxBytes >= 0))
      throw new RangeError('RedisBroker: resumeCache maxEvents and maxBytes must be numbers ≥ 0');
    this.owned = !options.client;
    const client =
      options.client ??
      createClient({
        url: options.url ?? 'redis://127.0.0.1:6379',
        // While Redis is unreachable, commands fail at once instead of waiting in a queue.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: this.connectTimeoutMs,
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
        },
      });
    this.sharded = options.shardedPubSub ?? isCluster(client);
    this.conn = new Connection(client, this.timeoutMs, () => new TimeoutError());
    const onStateChange = options.onStateChange;
    this.links = new LinkState(
      (err) => {
        this.reportError(new BrokerUnavailableError('', err.message || err.name, { cause: err }));
        onStateChange?.('down');
      },
      () => onStateChange?.('up'),
    );
    this.links.track('command', client, this.owned);
    // A client passed in may still be connecting: calls wait for its 'ready' as for our own.
    this.firstReady = new Promise<void>((resolve) => {
      if (client.isReady) return resolve();
      client.once(isCluster(client) ? 'connect' : 'ready', () => resolve());
    }).then(() => {
      this.everReady = true;
    });
    if (!client.isOpen) {
      client.connect().catch((err: unknown) => {
        if (!this.closed) this.links.failed(err as Error);
      });
    }
  }

  /** Whether every connection the broker uses to Redis is ready now. */
  get connected(): boolean {
    return !this.closed && this.links.up;
  }

  /**
   * Whether Redis answers: every connection the broker uses is ready and a PING comes back
   * within `timeoutMs`. While the first connection is still being made, waits for it as calls
   * do. For health checks (the hub's `/healthz`); never rejects.
   */
  async checkHealth(timeoutMs = 1000): Promise<BrokerHealth> {
    if (this.closed) return { healthy: false, reason: 'the broker is closed' };
    if (!this.owned && !this.conn.client.isOpen) {
      return { healthy: false, reason: 'the Redis client passed to RedisBroker has been closed' };
    }
    await this.firstConnect(timeoutMs); // within the health check's own time, not connectTimeoutMs
    if (!this.links.up) return { healthy: false, reason: this.links.describeDown() };
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.conn.command('', ['PING']),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`PING had no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      return { healthy: true };
    } catch (err) {
      return { healthy: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  private key(stream: string): { meta: string; history: string; channel: string } {
    // The prefix comes first, so every key starts with it (SCAN MATCH 'ssekit:*' finds them);
    // the stream name is the hash tag, so a stream's keys share a cluster slot.
    const base = `${this.keyPrefix}:{${stream}}`;
    return { meta: `${base}:meta`, history: `${base}:history`, channel: `${base}:live` };
  }

  private async ready(stream: string): Promise<void> {
    if (this.closed) throw new BrokerClosedError(stream);
    if (this.conn.ready) return;
    if (!this.owned && !this.conn.client.isOpen) throw new BrokerClientClosedError(stream);
    if (!this.everReady) {
      await this.firstConnect();
      if (this.closed) throw new BrokerClosedError(stream);
      if (this.conn.ready) return;
    }
    // The connection's own error says why (refused, WRONGPASS, NOAUTH…), not just that it is down.
    const why = this.links.lastError;
    throw new BrokerUnavailableError(stream, why?.message || 'not connected', { cause: why });
  }

  /**
   * The first connection may take a moment: waits for it, up to `connectTimeoutMs`. Once it has
   * been up, a lost connection fails calls at once instead.
   */
  private async firstConnect(waitMs = this.connectTimeoutMs): Promise<void> {
    if (!this.everReady) await settledWithin(this.firstReady, waitMs);
  }

  private wrap(stream: string, err: unknown): Error {
    if (this.closed) return new BrokerClosedError(stream);
    if (!this.owned && !this.conn.client.isOpen) return new BrokerClientClosedError(stream);
    if (err instanceof ErrorReply && !TRANSIENT.test(err.message))
      return new BrokerReplyError(stream, err.message);
    if (err instanceof TimeoutError) {
      return new BrokerUnavailableError(stream, `no answer within ${this.timeoutMs} ms`, {
        cause: err,
        published: 'unknown',
      });
    }
    const detail = err instanceof Error ? err.message || err.name : String(err);
    return new BrokerUnavailableError(stream, detail, { cause: err });
  }

  async publish(stream: string, message: BrokerMessage, limits: HistoryLimits): Promise<string> {
    await this.ready(stream);
    const k = this.key(stream);
    const maxLen = Math.min(this.maxLen, limits.maxEvents);
    const reply = await this.conn
      .script<[string, string, string, string]>(
        PUBLISH,
        [k.meta, k.history],
        [
          this.epochCandidate,
          message.id === undefined ? '0' : '1',
          message.id ?? '',
          message.body,
          Number.isFinite(maxLen) ? String(Math.max(0, Math.floor(maxLen))) : '-1',
          Number.isFinite(limits.maxAgeMs)
            ? String(Math.max(0, Math.floor(limits.maxAgeMs)))
            : '-1',
          k.channel,
          this.sharded ? 'SPUBLISH' : 'PUBLISH',
        ],
      )
      .catch((err: unknown) => {
        throw this.wrap(stream, err);
      });
    if (reply[3] === this.epochCandidate) this.epochCandidate = newEpoch();
    return reply[0];
  }

  tryPublish(stream: string, message: BrokerMessage, limits: HistoryLimits): boolean {
    if (this.closed || !this.conn.ready || this.pending >= this.maxPending) return false;
    this.pending++;
    this.publish(stream, message, limits)
      .catch((err: Error) => this.reportError(err))
      .finally(() => {
        this.pending--;
      });
    return true;
  }

  async history(
    stream: string,
    lastEventId: string,
    limits: HistoryLimits,
  ): Promise<HistoryResult> {
    if (this.closed) throw new BrokerClosedError(stream);
    const maxLen = Math.min(this.maxLen, limits.maxEvents);
    const feed = this.feeds.get(stream);
    const recent = feed?.recent.after(lastEventId, limits, maxLen);
    if (feed && recent) {
      // Redis may have lost this history (restarted empty, keys deleted) or trimmed the event
      // since: one small read of the stream's epoch and head says whether it still stands.
      const [epoch, head] = await this.readEpochAndHead(stream);
      if (epoch === feed.currentEpoch && Number(head) - recent.found.seq < maxLen) {
        return { resumable: true, events: recent.events };
      }
    }
    const [epoch, now, foundAt, foundTime, entries] = await this.readHistory(stream, lastEventId);
    const own = OWN_ID.exec(lastEventId);
    const cutoff = Number.isFinite(limits.maxAgeMs)
      ? Number(now) - limits.maxAgeMs
      : Number.NEGATIVE_INFINITY;
    let events = entries.map(toEvent).filter((e) => e.time >= cutoff);
    if (Number.isFinite(limits.maxEvents) && events.length > limits.maxEvents) {
      events = events.slice(events.length - Math.max(0, limits.maxEvents));
    }
    if (foundAt !== null && Number(foundTime) >= cutoff) return { resumable: true, events };
    // The same reasons as MemoryBroker's (see ResetReason): 'expired' by age, 'evicted' by
    // count, and 'unknown' for an id this history never held (none published, Redis lost its
    // data or the keys were deleted, another stream's or a made-up id).
    let reason: ResetReason;
    if (foundAt !== null) reason = 'expired';
    else if (own && epoch !== null && own[2] === epoch) {
      // Trimmed: by count if maxLen events came after it, else by age (the publish trims both).
      const newest = entries.length > 0 ? toEvent(entries[entries.length - 1]!).seq : undefined;
      reason = newest !== undefined && newest - Number(own[1]) >= maxLen ? 'evicted' : 'expired';
    } else reason = 'unknown';
    return { resumable: false, reason, events };
  }

  /**
   * The stream's epoch and last seq in Redis, read once for all resumes of one turn of the event
   * loop, and sent after them (see `readHistory`).
   */
  private readEpochAndHead(stream: string): Promise<[string | null, string | null]> {
    return this.batched(`head\n${stream}`, async () => {
      await this.ready(stream);
      const meta = this.key(stream).meta;
      return this.conn
        .command<[string | null, string | null]>(meta, ['HMGET', meta, 'epoch', 'seq'])
        .catch((err: unknown) => {
          throw this.wrap(stream, err);
        });
    });
  }

  /**
   * Reads history after an id from Redis. Clients that resume from the same id at once (all of
   * a stream's subscribers after a restart) share one read. It is sent on the next turn of the
   * event loop, after every caller of this turn has started listening, so the one snapshot is
   * recent enough for each of them.
   */
  private readHistory(stream: string, lastEventId: string): Promise<HistoryReply> {
    return this.batched(`history\n${stream}\n${lastEventId}`, () =>
      this.readHistoryNow(stream, lastEventId),
    );
  }

  /**
   * One read for every caller with the same key in this turn of the event loop. It is sent on
   * the next turn, so it reflects Redis after each caller asked; a later caller never joins a
   * read already sent.
   */
  private batched<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = this.batch.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.batch.delete(key);
        return read();
      });
      this.batch.set(key, pending);
    }
    return pending;
  }

  private async readHistoryNow(stream: string, lastEventId: string): Promise<HistoryReply> {
    await this.ready(stream);
    const k = this.key(stream);
    const own = OWN_ID.exec(lastEventId);
    return this.conn
      .script<HistoryReply>(
        HISTORY,
        [k.meta, k.history],
        [lastEventId, own?.[1] ?? '', own?.[2] ?? ''],
      )
      .catch((err: unknown) => {
        throw this.wrap(stream, err);
      });
  }

  private async readHead(
    stream: string,
    epoch: string | null,
    afterSeq: number | null,
  ): Promise<HeadRead> {
    const k = this.key(stream);
    type Reply = [string | null, string | null, string | null, Entry[]];
    const [e, base, head, entries] = await this.conn
      .script<Reply>(
        READ,
        [k.meta, k.history],
        [epoch ?? '', afterSeq === null ? '' : String(afterSeq), String(CATCH_UP_PAGE)],
      )
      .catch((err: unknown) => {
        throw this.wrap(stream, err);
      });
    return {
      epoch: e,
      base: Number(base ?? 0),
      head: Number(head ?? 0),
      events: entries.map(toEvent),
    };
  }

  private subscriber(): Promise<RedisClient | RedisCluster> {
    if (!this.sub) {
      const main = this.conn.client;
      const client = isCluster(main)
        ? main.duplicate()
        : main.duplicate({ disableOfflineQueue: true });
      this.links.track('pub/sub', client, true);
      // After a reconnect (resubscribed by node-redis before 'ready'), deliver what was missed.
      client.on(isCluster(client) ? 'node-ready' : 'ready', () => void this.resync());
      // From the drop on, Redis may come back another (restarted) instance: see resync. (A
      // cluster's nodes have a run_id each; there, only streams with an epoch see a loss.)
      if (!isCluster(client)) {
        client.on('reconnecting', () => {
          for (const feed of this.feeds.values()) feed.doubtFirstEpoch(true);
        });
      }
      this.sub = { client, connected: client.connect() };
      this.sub.connected.catch(() => {});
    }
    const { client, connected } = this.sub;
    if (client.isReady) return Promise.resolve(client);
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      connected.then(() => client),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('the pub/sub connection is not ready')),
          this.connectTimeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * The pub/sub connection is (again) ready: every feed catches up. A Redis that restarted (its
   * run_id changes with every start) may have taken undelivered events with it, which a stream
   * that had no history when it was listened to cannot tell from its epoch: such feeds stay in
   * doubt (a gap at their first epoch) unless this is the same Redis as before.
   */
  private async resync(): Promise<void> {
    if (!isCluster(this.conn.client)) {
      // Asked first, so that a blip (the same Redis) does not make catch-ups report a gap.
      const info = await this.conn.command<string>('', ['INFO', 'server']).catch(() => '');
      const runId = /run_id:(\w+)/.exec(info)?.[1];
      if (runId !== undefined) {
        const same = this.runId === undefined || runId === this.runId;
        this.runId = runId;
        if (same) for (const feed of this.feeds.values()) feed.doubtFirstEpoch(false);
      }
    }
    for (const feed of this.feeds.values()) void feed.catchUp();
  }

  async listen(stream: string, listener: BrokerListener): Promise<() => Promise<void>> {
    await this.ready(stream);
    let feed = this.feeds.get(stream);
    let starting: Promise<void> | undefined;
    if (!feed) {
      const f = new LiveFeed(
        (epoch, after) => this.readHead(stream, epoch, after),
        // An outage is reported once, by the connection; the feed retries until it is over.
        (err) => {
          if (err instanceof BrokerUnavailableError) return;
          this.reportError(err instanceof Error ? err : new Error(String(err)));
        },
        this.recentLimits,
      );
      feed = f;
      this.feeds.set(stream, f);
      const onMessage = <T extends string | Buffer>(raw: T) => f.push(raw.toString());
      const channel = this.key(stream).channel;
      starting = (async () => {
        const sub = await this.subscriber();
        if (this.sharded) {
          await sub.sSubscribe(channel, onMessage);
          f.unsubscribe = () => sub.sUnsubscribe(channel, onMessage);
        } else {
          await sub.subscribe(channel, onMessage);
          f.unsubscribe = () => sub.unsubscribe(channel, onMessage);
        }
        await f.start();
      })();
      f.started = starting;
    }
    feed.listeners.add(listener);
    const f = feed;
    try {
      await f.started;
    } catch (err) {
      await this.release(stream, f, listener);
      throw this.wrap(stream, err);
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await this.release(stream, f, listener);
    };
  }

  private async release(stream: string, feed: LiveFeed, listener: BrokerListener): Promise<void> {
    feed.listeners.delete(listener);
    if (feed.listeners.size > 0 || this.feeds.get(stream) !== feed) return;
    this.feeds.delete(stream);
    feed.stop();
    // A Redis that does not answer must not hold up a server's close.
    await settledWithin(feed.unsubscribe?.(), this.timeoutMs);
  }

  /** Kept: other processes may still serve the stream. History ages out through maxLen/maxAgeMs. */
  async drop(_stream: string): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.links.silence();
    this.conn.stop();
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
    const quit = async (c: RedisClient | RedisCluster) => {
      // close() waits for the replies still due; a Redis that does not answer gets destroy().
      if (c.isReady) await settledWithin(c.close(), this.timeoutMs);
      if (c.isOpen) c.destroy();
    };
    if (this.sub) await quit(this.sub.client);
    if (this.owned) await quit(this.conn.client);
  }
}
