/** How much of its time a stream must need for writing before it starts holding events. */
const BUSY = 0.75;
/**
 * The weight of the newest sample in the running averages: small, so that what moves them is a
 * lasting load, not a publisher catching up after a pause or a fan-out slowed by a GC.
 */
const GAP_SMOOTHING = 1 / 32;
const COST_SMOOTHING = 1 / 16;

/**
 * Decides when a stream writes the events a tick brings: at the end of that tick while the stream
 * keeps up, or later, joined with the next ticks' events, when it cannot.
 *
 * A fan-out costs one socket write per subscriber whatever the write carries, and the system call
 * is most of that cost. So when events come in more often than the stream can write them one
 * fan-out at a time (a fan-out takes 3/4 or more of the gap between ticks, both averaged over
 * the last few dozen), a tick's events are held for about as long as one fan-out takes — no
 * longer than the last subscriber of a fan-out waits anyway, but at least the 1 ms a timer
 * takes, and at most `maxDelayMs` — and then go out in one write per subscriber. The demand is measured by ticks that bring
 * events, not by the writes done, so holding does not hide the load that made it hold.
 */
export class WritePacer {
  private lastTick = Number.NEGATIVE_INFINITY;
  /** The running average of ms between ticks that brought events; Infinity until two have. */
  private tickGap = Number.POSITIVE_INFINITY;
  /** The running average of how long a fan-out takes, in ms; NaN until one has been made. */
  private cost = Number.NaN;

  constructor(private readonly maxDelayMs: number) {}

  /** A tick brought events at `now` (ms): how long to hold them, 0 to write them at its end. */
  arrived(now: number): number {
    const gap = now - this.lastTick;
    this.lastTick = now;
    this.tickGap =
      this.tickGap === Number.POSITIVE_INFINITY
        ? gap
        : this.tickGap + (gap - this.tickGap) * GAP_SMOOTHING;
    if (this.maxDelayMs === 0 || !(this.cost >= BUSY * this.tickGap)) return 0;
    // Whole ms: node rounds a timer up to them anyway, and fractions make a timer list each.
    return Math.ceil(Math.min(this.maxDelayMs, Math.max(1, this.cost)));
  }

  /** A fan-out took `ms`. */
  wrote(ms: number): void {
    this.cost = Number.isNaN(this.cost) ? ms : this.cost + (ms - this.cost) * COST_SMOOTHING;
  }

  /** Nobody is subscribed: what fan-outs cost so far says nothing about the next one. */
  reset(): void {
    this.cost = Number.NaN;
  }
}
