import type {
  Broker,
  BrokerEvent,
  BrokerMessage,
  HistoryLimits,
  ResetReason,
} from '../broker/types.js';
import { encodeEvent, encodeIdLine } from '../protocol/encode.js';
import { InvalidEventError } from '../protocol/errors.js';
import type { PublishEvent } from '../protocol/types.js';
import { callHook } from './hooks.js';
import type { Subscriber } from './subscriber.js';
import type { UnsubscribeInfo, UnsubscribeReason } from './types.js';
import { resetText, wireText } from './wire.js';
import { WritePacer } from './write-pacer.js';

/** Held events are written at the end of the tick in which they reach this size... */
const MAX_HELD_BYTES = 64 * 1024;
/** ...or this share of `maxQueuedBytes`, so one joined write cannot make a subscriber look slow. */
const HELD_SHARE_OF_QUEUE = 1 / 4;

/** What a stream needs from its server; one object shared by all streams. */
export interface StreamSettings {
  broker: Broker;
  /** What the broker keeps. */
  limits: HistoryLimits;
  /** What a replay may send: the same, and nothing older than `eventTTL`. */
  replayLimits: HistoryLimits;
  resetEvent: string | null;
  maxQueuedBytes: number;
  /** The longest a stream under load holds events to join them (0: never holds). */
  maxWriteDelayMs: number;
  encodeBase64: boolean;
  onUnsubscribe?: (streamId: string, info: UnsubscribeInfo) => void;
}

/**
 * A named stream: its subscribers in this process, fed by the broker.
 *
 * Events that arrive in the same tick are sent as one write, encoded once and shared by every
 * subscriber: the cost per subscriber is one `write` call per tick, whatever the burst. A stream
 * that falls behind also joins events across ticks (see WritePacer).
 */
export class Stream {
  readonly id: string;
  private readonly settings: StreamSettings;
  private readonly subscribers = new Set<Subscriber>();
  private pending: BrokerEvent[] = [];
  private pendingBytes = 0;
  /** Events have arrived in this tick: its end (a microtask) is queued. */
  private inTick = false;
  /** Set while events are held to be joined with later ones (see WritePacer). */
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pacer: WritePacer;
  private readonly maxHeldBytes: number;
  /** The newest event seen live: a new subscriber without replay starts after it. */
  private newestSeq = -1;
  private newestId = '';
  private unlisten: Promise<() => Promise<void>>;
  private listenFailed = false;

  /** @internal Streams are made by `SSEServer.createStream`. */
  constructor(id: string, settings: StreamSettings) {
    this.id = id;
    this.settings = settings;
    this.pacer = new WritePacer(settings.maxWriteDelayMs);
    this.maxHeldBytes = Math.min(MAX_HELD_BYTES, settings.maxQueuedBytes * HELD_SHARE_OF_QUEUE);
    this.unlisten = this.listen();
  }

  /** Subscribers connected to this process. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Resolves once the broker delivers this stream's events here. If listening failed (the
   * broker was unreachable), this tries again, so a stream recovers with its broker.
   */
  get ready(): Promise<void> {
    if (this.listenFailed) this.unlisten = this.listen();
    return this.unlisten.then(() => undefined);
  }

  private listen(): Promise<() => Promise<void>> {
    this.listenFailed = false;
    const unlisten = this.settings.broker.listen(this.id, {
      onEvent: (event) => this.receive(event),
      onGap: (reason) => this.gap(reason),
    });
    // The failure shows to whoever awaits `ready`, which then tries again.
    unlisten.catch(() => {
      this.listenFailed = true;
    });
    return unlisten;
  }

  /** @internal Encode and hand to the broker; resolves with the event's id. */
  publish(event: PublishEvent): Promise<string> {
    return this.settings.broker.publish(this.id, this.encode(event), this.settings.limits);
  }

  /** @internal */
  tryPublish(event: PublishEvent): boolean {
    return this.settings.broker.tryPublish(this.id, this.encode(event), this.settings.limits);
  }

  /** The body is encoded here, once; the id line is added at delivery, after the broker chose it. */
  private encode(event: PublishEvent): BrokerMessage {
    const opts = { base64: this.settings.encodeBase64 };
    if (typeof event === 'string' || event instanceof Uint8Array) {
      return { body: encodeEvent({ data: event }, opts) };
    }
    if (event === null || typeof event !== 'object') {
      throw new InvalidEventError(
        '',
        `publish takes a string, a Uint8Array or an object such as { data: 'text' }; got ${String(event)}`,
      );
    }
    const body = encodeEvent({ ...event, id: undefined }, opts);
    if (event.id === undefined) return { body };
    encodeIdLine(event.id); // refuses an id that could inject a field
    return { body, id: event.id };
  }

  /** @internal Start sending to a subscriber, replaying from `lastEventId` when given. */
  async attach(sub: Subscriber, lastEventId: string | undefined): Promise<void> {
    this.subscribers.add(sub);
    if (lastEventId === undefined) {
      sub.lastSeq = this.newestSeq;
      return;
    }
    sub.state = 'replaying';
    // Events that reached this stream before now are in the history read below, or older than
    // the client's id: either way, not to be sent again when a held write of them goes out.
    const seen = this.newestSeq;
    let history: Awaited<ReturnType<Broker['history']>>;
    try {
      await this.unlisten;
      history = await this.settings.broker.history(
        this.id,
        lastEventId,
        this.settings.replayLimits,
      );
    } catch {
      // No history to be had now: end the response so the client retries from the same id.
      return this.detach(sub, 'error');
    }
    // The client may have gone while history was read.
    if ((sub.state as Subscriber['state']) === 'closed') return;
    // Not resumable (evicted, older than maxAgeMs or eventTTL, unknown): a reset, then all held.
    const { events } = history;
    const reason = history.resumable ? undefined : history.reason;
    let text = '';
    if (reason !== undefined && this.settings.resetEvent !== null) {
      text = resetText(this.settings.resetEvent, reason, lastEventId, this.settings.encodeBase64);
    }
    text += wireText(events);
    sub.lastSeq = Math.max(seen, events.length > 0 ? events[events.length - 1]!.seq : -1);
    // Live events that came while history was read: send those not already replayed.
    const backlog = sub.backlog;
    sub.backlog = undefined;
    sub.backlogBytes = 0;
    const from = backlog ? backlog.findIndex((e) => e.seq > sub.lastSeq) : -1;
    if (backlog && from !== -1) {
      text += wireText(backlog, from);
      sub.lastSeq = backlog[backlog.length - 1]!.seq;
    }
    sub.state = 'live';
    if (text === '') return;
    const replay = Buffer.from(text);
    sub.replayBytes = replay.length;
    this.send(sub, replay);
  }

  /** @internal Remove a subscriber, once, telling `onUnsubscribe` why. */
  detach(sub: Subscriber, reason: UnsubscribeReason): void {
    if (sub.state === 'closed') return;
    sub.state = 'closed';
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) this.pacer.reset(); // its last cost was for others
    sub.backlog = undefined;
    if (reason === 'slow-subscriber' || reason === 'error') sub.connection.destroy();
    else if (reason !== 'client-closed') sub.connection.end();
    callHook('onUnsubscribe', this.settings.onUnsubscribe, this.id, { ...sub.info, reason });
  }

  /** @internal End every subscriber and stop listening. */
  async close(reason: UnsubscribeReason): Promise<void> {
    // Events already accepted go out before the end, not dropped with the scheduled flush.
    this.flush();
    for (const sub of this.subscribers) this.detach(sub, reason);
    const unlisten = await this.unlisten.catch(() => undefined);
    await unlisten?.();
  }

  /** @internal Write to every subscriber (keep-alives). */
  broadcast(chunk: Uint8Array): void {
    for (const sub of this.subscribers) this.send(sub, chunk);
  }

  private receive(event: BrokerEvent): void {
    this.newestSeq = event.seq;
    this.newestId = event.id;
    // Nobody to write to (a subscriber that comes later starts after this event, or replays it).
    if (this.subscribers.size === 0) return;
    this.pending.push(event);
    this.pendingBytes += event.body.length;
    if (!this.inTick) {
      // The first event of this tick: its events are written together at its end, or held.
      this.inTick = true;
      queueMicrotask(this.endTick);
      const hold = this.pacer.arrived(performance.now());
      if (hold > 0 && this.flushTimer === undefined) {
        this.flushTimer = setTimeout(this.flush, hold);
      }
    }
    if (this.flushTimer !== undefined && this.pendingBytes >= this.maxHeldBytes) {
      // Enough for a full write, and a publisher that never yields to the event loop would
      // otherwise pile up events the timer cannot send: write them at this tick's end.
      this.cancelHold();
    }
  }

  private cancelHold(): void {
    if (this.flushTimer === undefined) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private readonly endTick = (): void => {
    this.inTick = false;
    if (this.flushTimer === undefined) this.flush();
  };

  private readonly flush = (): void => {
    this.cancelHold(); // when flushed early: by close() or a gap
    const events = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (events.length === 0 || this.subscribers.size === 0) return;
    const start = performance.now();
    const last = events[events.length - 1]!;
    let shared: Buffer | undefined;
    // Subscribers that joined after a replay while events were held need only the later ones;
    // those that joined at the same point share one buffer too.
    let partial: { from: number; chunk: Buffer } | undefined;
    for (const sub of this.subscribers) {
      if (sub.state === 'replaying') {
        sub.backlog ??= [];
        for (const e of events) {
          sub.backlog.push(e);
          sub.backlogBytes += e.body.length;
        }
        if (sub.backlogBytes > this.settings.maxQueuedBytes) this.detach(sub, 'slow-subscriber');
        continue;
      }
      if (sub.lastSeq >= last.seq) continue;
      if (sub.lastSeq < events[0]!.seq) {
        shared ??= Buffer.from(wireText(events));
        this.send(sub, shared);
      } else {
        const from = events.findIndex((e) => e.seq > sub.lastSeq);
        if (partial?.from !== from) partial = { from, chunk: Buffer.from(wireText(events, from)) };
        this.send(sub, partial.chunk);
      }
      sub.lastSeq = last.seq;
    }
    this.pacer.wrote(performance.now() - start);
  };

  private send(sub: Subscriber, chunk: Uint8Array): void {
    if (sub.state === 'closed') return;
    sub.connection.write(chunk);
    const queued = sub.connection.queuedBytes;
    if (queued > this.settings.maxQueuedBytes + sub.replayBytes) {
      this.detach(sub, 'slow-subscriber');
    } else if (sub.replayBytes > 0 && queued <= this.settings.maxQueuedBytes) {
      sub.replayBytes = 0; // the replay has drained: the plain bound applies again
    }
  }

  /** The broker may have missed events: tell every subscriber it cannot be sure it has all. */
  private gap(reason: ResetReason): void {
    if (this.settings.resetEvent === null) return;
    this.flush(); // the events received before the gap go out before the reset
    const chunk = Buffer.from(
      resetText(this.settings.resetEvent, reason, this.newestId, this.settings.encodeBase64),
    );
    for (const sub of this.subscribers) if (sub.state === 'live') this.send(sub, chunk);
  }
}
