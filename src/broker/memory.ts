import type {
  Broker,
  BrokerEvent,
  BrokerListener,
  BrokerMessage,
  HistoryLimits,
  HistoryResult,
  ResetReason,
} from './types.js';

interface StreamLog {
  /** Held events, oldest first; `head` skips evicted ones without shifting the array. */
  events: BrokerEvent[];
  head: number;
  /** id → seq of the newest event with that id. */
  seqById: Map<string, number>;
  /** The newest seq evicted for its age: ids up to it expired, later ones were evicted. */
  expiredThrough: number;
  listeners: Set<BrokerListener>;
}

/**
 * History and delivery inside one process.
 *
 * Ids are integers that start at the broker's creation time in microseconds, so ids made after a
 * restart are larger than any made before it and an old id is never mistaken for a new one.
 */
export class MemoryBroker implements Broker {
  private readonly streams = new Map<string, StreamLog>();
  private readonly firstSeq = Date.now() * 1000;
  private nextSeq = this.firstSeq;

  publish(stream: string, message: BrokerMessage, limits: HistoryLimits): Promise<string> {
    return Promise.resolve(this.append(stream, message, limits).id);
  }

  tryPublish(stream: string, message: BrokerMessage, limits: HistoryLimits): boolean {
    this.append(stream, message, limits);
    return true;
  }

  history(stream: string, lastEventId: string, limits: HistoryLimits): Promise<HistoryResult> {
    const log = this.streams.get(stream);
    if (!log) {
      return Promise.resolve({ resumable: false, reason: 'unknown', events: [] });
    }
    // Read-only: the caller's limits choose what to send (a replay may be bounded tighter than
    // what is kept, as by eventTTL); what is kept is trimmed by publish's limits only.
    const cutoff = Date.now() - limits.maxAgeMs;
    let first = Math.max(log.head, log.events.length - limits.maxEvents);
    while (first < log.events.length && log.events[first]!.time < cutoff) first++;
    const held = log.events.slice(first);
    const seq = log.seqById.get(lastEventId);
    if (seq === undefined || seq < (held[0]?.seq ?? Number.POSITIVE_INFINITY)) {
      // Kept, but outside these limits: by count if maxEvents came after it, else by age.
      const reason =
        seq === undefined
          ? this.whyNotHeld(log, lastEventId)
          : log.events.length - 1 - indexOfSeq(log, seq) >= limits.maxEvents
            ? 'evicted'
            : 'expired';
      return Promise.resolve({ resumable: false, reason, events: held });
    }
    return Promise.resolve({ resumable: true, events: held.filter((e) => e.seq > seq) });
  }

  listen(stream: string, listener: BrokerListener): Promise<() => Promise<void>> {
    const log = this.log(stream);
    log.listeners.add(listener);
    return Promise.resolve(async () => {
      log.listeners.delete(listener);
      // An empty log goes with its last listener.
      if (
        log.listeners.size === 0 &&
        log.head === log.events.length &&
        this.streams.get(stream) === log
      )
        this.streams.delete(stream);
    });
  }

  async drop(stream: string): Promise<void> {
    const log = this.streams.get(stream);
    if (log && log.listeners.size === 0) this.streams.delete(stream);
    else if (log) {
      log.events = [];
      log.head = 0;
      log.seqById.clear();
    }
  }

  async close(): Promise<void> {
    this.streams.clear();
  }

  private append(stream: string, message: BrokerMessage, limits: HistoryLimits): BrokerEvent {
    const log = this.log(stream);
    const seq = this.nextSeq++;
    const event: BrokerEvent = {
      seq,
      id: message.id ?? String(seq),
      time: Date.now(),
      body: message.body,
    };
    log.events.push(event);
    log.seqById.set(event.id, seq);
    trim(log, limits, event.time);
    // Appending and announcing happen in one synchronous step: nothing can come between them.
    for (const listener of log.listeners) listener.onEvent(event);
    return event;
  }

  /** 'expired' (by age), 'evicted' (by count, or the stream was removed) or 'unknown'. */
  private whyNotHeld(log: StreamLog, id: string): ResetReason {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < this.firstSeq || n >= this.nextSeq) return 'unknown';
    return n <= log.expiredThrough ? 'expired' : 'evicted';
  }

  private log(stream: string): StreamLog {
    let log = this.streams.get(stream);
    if (!log) {
      log = { events: [], head: 0, seqById: new Map(), expiredThrough: -1, listeners: new Set() };
      this.streams.set(stream, log);
    }
    return log;
  }
}

/** Where the held event with this seq is in `log.events` (seqs ascend). */
function indexOfSeq(log: StreamLog, seq: number): number {
  let lo = log.head;
  let hi = log.events.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log.events[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Evict by count and age; compact the array once half of it is evicted. */
function trim(log: StreamLog, limits: HistoryLimits, now: number): void {
  const { events } = log;
  const oldestKept = now - limits.maxAgeMs;
  while (log.head < events.length) {
    const e = events[log.head]!;
    if (events.length - log.head <= limits.maxEvents && e.time >= oldestKept) break;
    if (e.time < oldestKept) log.expiredThrough = e.seq;
    if (log.seqById.get(e.id) === e.seq) log.seqById.delete(e.id);
    // Let the evicted event go now, not at the next compaction: history holds maxEvents, no more.
    (events as Array<BrokerEvent | undefined>)[log.head] = undefined;
    log.head++;
  }
  if (log.head > 64 && log.head * 2 > events.length) {
    log.events = events.slice(log.head);
    log.head = 0;
  }
}
