import type { BrokerEvent, HistoryLimits } from '../broker/types.js';

export interface RecentLimits {
  /** Events kept per stream; 0 turns the window off. */
  maxEvents: number;
  /** Size of the event bodies kept per stream, in characters (bytes, for ASCII bodies). */
  maxBytes: number;
}

/** Redis's clock and this process's may differ; near the age limit, Redis decides. */
const CLOCK_MARGIN_MS = 1000;

/** Broker-made ids are `<seq>-<epoch>` (10 hex digits): the seq finds the event without a search. */
export const OWN_ID = /^(\d{1,16})-([0-9a-f]{10})$/;

/**
 * The newest events one stream's live feed delivered in this process, contiguous in seq.
 *
 * A client that reconnects after a short drop resumes from one of these, so its replay comes
 * from here instead of from a history read in Redis (a script whose reply holds the events, on
 * the connection that publishes go through); Redis is asked only whether this history still
 * stands. Every event after the window's newest reaches the server through the same feed, in
 * order, so a replay from here followed by live delivery leaves nothing out.
 */
export class RecentEvents {
  private events: BrokerEvent[] = [];
  private bytes = 0;

  constructor(private readonly limits: RecentLimits) {}

  /** The feed delivered `event` (in seq order); a jump in seq starts the window afresh. */
  add(event: BrokerEvent): void {
    if (this.limits.maxEvents <= 0) return;
    const newest = this.events[this.events.length - 1];
    if (newest !== undefined && event.seq !== newest.seq + 1) this.clear();
    this.events.push(event);
    this.bytes += event.body.length;
    // An event larger than maxBytes is not kept at all: resumes from it go to Redis.
    while (this.events.length > this.limits.maxEvents || this.bytes > this.limits.maxBytes) {
      this.bytes -= (this.events.shift() as BrokerEvent).body.length;
    }
  }

  /** The feed lost track (a gap, a new epoch): what it delivered before no longer leads on. */
  clear(): void {
    this.events = [];
    this.bytes = 0;
  }

  /**
   * The event with this id and those after it, or undefined when this window cannot answer:
   * the id is not in it, or Redis's bounds (`maxLen` events, `limits.maxAgeMs`) may have
   * dropped it already. Whether Redis still holds that history at all is the caller's to check.
   */
  after(
    id: string,
    limits: HistoryLimits,
    maxLen: number,
  ): { found: BrokerEvent; events: BrokerEvent[] } | undefined {
    const at = this.indexOf(id);
    if (at === -1) return undefined;
    const found = this.events[at] as BrokerEvent;
    const events = this.events.slice(at + 1);
    // Redis holds the newest maxLen events: the one resumed from must be among them.
    if (events.length >= maxLen) return undefined;
    if (
      Number.isFinite(limits.maxAgeMs) &&
      found.time < Date.now() - limits.maxAgeMs + CLOCK_MARGIN_MS
    ) {
      return undefined;
    }
    return { found, events };
  }

  private indexOf(id: string): number {
    const events = this.events;
    if (events.length === 0) return -1;
    const own = OWN_ID.exec(id);
    if (own) {
      const at = Number(own[1]) - (events[0] as BrokerEvent).seq;
      if (events[at]?.id === id) return at;
    }
    // A publisher's own id: the newest event that carries it, as Redis would find.
    for (let i = events.length - 1; i >= 0; i--) {
      if ((events[i] as BrokerEvent).id === id) return i;
    }
    return -1;
  }
}
