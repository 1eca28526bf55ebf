import type { BrokerEvent, BrokerListener } from '../broker/types.js';
import { RecentEvents, type RecentLimits } from './recent.js';

/** A stream's head and, when asked, the events after a seq, read in one atomic step. */
export interface HeadRead {
  /** null: the stream has no history in Redis (never published, or its keys are gone). */
  epoch: string | null;
  /** The seq this epoch started after (its first event is base + 1). */
  base: number;
  /** The last seq given out in this epoch. */
  head: number;
  /**
   * Events after the asked seq (from the oldest held if the epoch is not the one asked about),
   * oldest first, contiguous; possibly one page of them: a last event below `head` means more.
   */
  events: BrokerEvent[];
}

/** `afterSeq` null: the head only. */
export type ReadFn = (epoch: string | null, afterSeq: number | null) => Promise<HeadRead>;

interface LiveMessage {
  epoch: string;
  event: BrokerEvent;
  /** Arrival number, to tell messages published before a read from those after. */
  n: number;
}

/** The pub/sub message the publish script sends: seq, epoch, time, id, then the body. */
export function parseLiveMessage(raw: string): { epoch: string; event: BrokerEvent } | undefined {
  const a = raw.indexOf('\n');
  const b = raw.indexOf('\n', a + 1);
  const c = raw.indexOf('\n', b + 1);
  const d = raw.indexOf('\n', c + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0) return undefined;
  return {
    epoch: raw.slice(a + 1, b),
    event: {
      seq: Number(raw.slice(0, a)),
      time: Number(raw.slice(b + 1, c)),
      id: raw.slice(c + 1, d),
      body: raw.slice(d + 1),
    },
  };
}

const RETRY_MS = 1000;

/**
 * Delivers one stream's live events to this process's listeners, strictly in seq order, each
 * once. Pub/sub alone can lose messages (a dropped connection), so whenever a message is not the
 * next one expected — or the connection came back — the feed reads the missed events from
 * history before going on, and reports a gap only when history no longer holds them.
 */
export class LiveFeed {
  readonly listeners = new Set<BrokerListener>();
  /** The newest events delivered here, to answer short resumes without Redis. */
  readonly recent: RecentEvents;
  /** Settles once subscribed and positioned at the head (set by the broker). */
  started: Promise<void> | undefined;
  /** Ends this feed's pub/sub subscription (set by the broker). */
  unsubscribe: (() => Promise<void>) | undefined;
  private epoch: string | null = null;
  private lastSeq = 0;
  private queue: LiveMessage[] = [];
  private received = 0;
  /** Messages with n up to this were published before the last completed read began. */
  private readThrough = 0;
  private reading = true;
  private readAgain = false;
  /** Redis may have restarted before this feed saw any epoch (see doubtFirstEpoch). */
  private unsureOfFirstEpoch = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly read: ReadFn,
    private readonly report: (err: unknown) => void,
    recent: RecentLimits = { maxEvents: 0, maxBytes: 0 },
  ) {
    this.recent = new RecentEvents(recent);
  }

  /** The epoch of the events delivered so far (null before any). */
  get currentEpoch(): string | null {
    return this.epoch;
  }

  /** Starts after the stream's current head; messages that arrive meanwhile wait in the queue. */
  async start(): Promise<void> {
    const mark = this.received;
    try {
      const r = await this.read(null, null);
      this.epoch = r.epoch;
      this.lastSeq = r.epoch === null ? 0 : r.head;
      this.readThrough = mark;
    } finally {
      this.reading = false;
    }
    if (this.readAgain) void this.catchUp();
    else this.drain();
  }

  push(raw: string): void {
    if (this.stopped) return;
    const m = parseLiveMessage(raw);
    if (!m) {
      this.report(new Error(`ssekit/redis: ignored a malformed live message: ${raw.slice(0, 80)}`));
      return;
    }
    this.queue.push({ ...m, n: ++this.received });
    this.drain();
  }

  /**
   * The connection to Redis dropped (`true`), or came back to the same Redis (`false`). Until
   * then a feed that has seen no epoch cannot tell a first epoch from one that replaced a history
   * lost with Redis, so the next epoch it sees counts as a gap.
   */
  doubtFirstEpoch(doubt: boolean): void {
    this.unsureOfFirstEpoch = doubt && this.epoch === null;
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    clearTimeout(this.retry);
  }

  private drain(): void {
    while (!this.reading && !this.stopped && this.queue.length > 0) {
      const m = this.queue[0] as LiveMessage;
      const stale = m.n <= this.readThrough;
      if (m.epoch !== this.epoch) {
        // A message of another epoch from before the last read is outdated; one from after it
        // means the history changed under us.
        if (stale) this.queue.shift();
        else return void this.catchUp();
      } else if (m.event.seq <= this.lastSeq) {
        this.queue.shift();
      } else if (m.event.seq === this.lastSeq + 1) {
        this.queue.shift();
        this.deliver(m.event);
      } else if (stale) {
        // The read should have covered it, so what lies between is gone from history.
        this.queue.shift();
        // Events between lastSeq and this one were lost before this process received them.
        this.gap();
        this.deliver(m.event);
      } else {
        return void this.catchUp();
      }
    }
  }

  /** Reads what this process missed and delivers it; called on a gap and after a reconnect. */
  async catchUp(): Promise<void> {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.readAgain = false;
    clearTimeout(this.retry);
    const mark = this.received;
    let r: HeadRead;
    try {
      r = await this.read(this.epoch, this.epoch === null ? 0 : this.lastSeq);
    } catch (err) {
      this.reading = false;
      this.report(err);
      // Keep the queue and try again; a reconnect also calls catchUp.
      if (!this.stopped) this.retry = setTimeout(() => void this.catchUp(), RETRY_MS).unref();
      return;
    }
    this.reading = false;
    if (this.stopped) return;
    const newest = r.events[r.events.length - 1];
    // One page of a longer history: deliver it and read on before trusting the read as whole.
    const more = newest !== undefined && newest.seq < r.head;
    if (!more) this.readThrough = mark;
    else this.readAgain = true;
    const sameEpoch = r.epoch === this.epoch;
    let reported = false;
    if (!sameEpoch) {
      if (this.epoch !== null || this.unsureOfFirstEpoch) {
        reported = true;
        // Redis no longer holds this stream (restarted without persistence, keys deleted), or
        // its history was replaced (a new epoch): events may have been missed.
        this.gap();
      }
      this.epoch = r.epoch;
      this.lastSeq = 0;
      this.unsureOfFirstEpoch = false;
    }
    if (r.epoch !== null) {
      const expected = (sameEpoch ? this.lastSeq : r.base) + 1;
      const first = r.events[0]?.seq ?? r.head + 1;
      if (!reported && first > expected && r.head >= expected) {
        // Events from `expected` on were trimmed from history before they could be delivered.
        this.gap();
      }
      for (const e of r.events) {
        if (e.seq > this.lastSeq) this.deliver(e);
      }
      if (!more) this.lastSeq = Math.max(this.lastSeq, r.head);
    }
    if (this.readAgain) void this.catchUp();
    else this.drain();
  }

  private deliver(event: BrokerEvent): void {
    this.lastSeq = event.seq;
    this.recent.add(event);
    for (const l of this.listeners) {
      try {
        l.onEvent(event);
      } catch (err) {
        this.report(err);
      }
    }
  }

  private gap(): void {
    this.recent.clear();
    for (const l of this.listeners) {
      try {
        l.onGap?.('lost');
      } catch (err) {
        this.report(err);
      }
    }
  }
}
