/**
 * The contract between `SSEServer` and where events live (memory, Redis, …).
 *
 * A broker keeps each stream's history and delivers new events to every process that listens.
 * It promises, per stream:
 * - **Order.** `seq` strictly increases in publish order, and live delivery (`listen`) and history
 *   (`history`) agree on it: the event with seq n is delivered before the one with seq n + 1.
 * - **Atomicity.** Appending to history and announcing to listeners are one step: an event that
 *   a listener received is in history (while within its bounds), and an event in history has been
 *   (or is being) announced. A `publish` that resolved is in history.
 * - **Identity.** `id` is what clients see and send back as Last-Event-ID; `history` can tell
 *   whether a given id is still held.
 *
 * The server does the replay-to-live handover: it listens first, asks for history, then drops any
 * live event whose seq is not above the last replayed one. So a broker never has to coordinate
 * the two calls.
 */
export interface BrokerEvent {
  /** Position in the stream: strictly increasing in publish order. */
  readonly seq: number;
  /** The event id clients see (the publisher's, or one the broker made). */
  readonly id: string;
  /** Publish time, ms since the epoch (for TTL and age limits). */
  readonly time: number;
  /** The event's wire text without its `id:` line, ending in a blank line. */
  readonly body: string;
}

/** What to publish: the encoded body and, when the publisher chose one, the id. */
export interface BrokerMessage {
  body: string;
  id?: string;
}

export interface HistoryLimits {
  /** Keep at most this many events (newest). */
  maxEvents: number;
  /** Drop events older than this, in ms (Infinity: no age limit). */
  maxAgeMs: number;
}

/**
 * Why a client cannot be sure it has every event, sent as the `reset` event's `reason`:
 * - `'evicted'`: its Last-Event-ID was pushed out of history by the count bound;
 * - `'expired'`: its Last-Event-ID is older than the age bound (`maxAgeMs`, `eventTTL`);
 * - `'unknown'`: its Last-Event-ID was never in this history (never issued, from before a
 *   restart, or from a history that was lost, as when Redis restarts empty; RedisBroker also
 *   says so for another stream's id, MemoryBroker, which numbers all its streams' events in one
 *   sequence, says 'evicted');
 * - `'lost'`: live delivery skipped events that are gone from history (a broker's gap).
 */
export type ResetReason = 'evicted' | 'expired' | 'unknown' | 'lost';

export type HistoryResult =
  /** The id was found: `events` are all events after it, oldest first. */
  | { resumable: true; events: BrokerEvent[] }
  /** The id cannot be resumed from: `events` are all events still held, oldest first. */
  | { resumable: false; reason: ResetReason; events: BrokerEvent[] };

export interface BrokerListener {
  /** A new event, in seq order. */
  onEvent(event: BrokerEvent): void;
  /**
   * The broker lost track of the stream (e.g. its store restarted) and could not catch up;
   * events may have been missed. The server tells subscribers with a `reset` event.
   */
  onGap?(reason: ResetReason): void;
}

export interface Broker {
  /** Append and announce; resolves with the event's id once it is in history. */
  publish(stream: string, message: BrokerMessage, limits: HistoryLimits): Promise<string>;
  /** Like publish, but never waits: false when the broker cannot take the event now. */
  tryPublish(stream: string, message: BrokerMessage, limits: HistoryLimits): boolean;
  /**
   * Events after `lastEventId`, or all that are held with `resumable: false` when that id is not
   * held (evicted, expired, from a previous epoch, or never issued).
   */
  history(stream: string, lastEventId: string, limits: HistoryLimits): Promise<HistoryResult>;
  /** Start delivering a stream's new events to this process; resolves once listening. */
  listen(stream: string, listener: BrokerListener): Promise<() => Promise<void>>;
  /** Forget a stream's history (called by `removeStream`); brokers shared by processes may keep it. */
  drop?(stream: string): Promise<void>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
