/**
 * The benchmark's events and their timing. Every event's data is 200 bytes of JSON whose first
 * field is the publish time; publisher and subscribers are processes on one machine and read
 * the same monotonic clock, so receive time minus that field is the delivery latency.
 */

export const EVENT_DATA_BYTES = 200;

/** Microseconds on CLOCK_MONOTONIC, the same clock in every process on the machine. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

const PAD = 'x'.repeat(EVENT_DATA_BYTES);

/** `{"t":<µs>,"n":<seq>,"p":"xx…"}`, exactly `EVENT_DATA_BYTES` long. */
export function eventData(seq: number, t = nowUs()): string {
  const head = `{"t":${t},"n":${seq},"p":"`;
  return `${head}${PAD.slice(0, EVENT_DATA_BYTES - head.length - 2)}"}`;
}

/** What subscribers look for: the start of an event's data, followed by its publish time. */
export const MARK = Buffer.from('{"t":');
const BLANK_LINE = Buffer.from('\n\n');

/**
 * Counts events in a response body and records each one's latency. Only complete events are
 * read (up to the last blank line); the rest waits for the next chunk.
 */
export class EventCounter {
  private rest: Buffer | null = null;

  constructor(private readonly sink: LatencySink) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const end = buf.lastIndexOf(BLANK_LINE);
    if (end === -1) {
      this.rest = buf;
      return;
    }
    const now = nowUs();
    let at = buf.indexOf(MARK);
    while (at !== -1 && at < end) {
      let t = 0;
      let i = at + MARK.length;
      for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) t = t * 10 + (c - 48);
      this.sink.record(now - t);
      at = buf.indexOf(MARK, i);
    }
    if (end + 2 < buf.length) this.rest = buf.subarray(end + 2);
  }
}

export interface LatencySink {
  record(us: number): void;
}

/** Log-spaced buckets, 2% wide: percentiles to about 1% for any latency from 1 µs to hours. */
export class Histogram implements LatencySink {
  static readonly STEPS_PER_E = 50;
  counts = new Float64Array(1400);
  total = 0;

  record(us: number): void {
    const b = us < 1 ? 0 : 1 + Math.floor(Math.log(us) * Histogram.STEPS_PER_E);
    this.counts[Math.min(b, this.counts.length - 1)]!++;
    this.total++;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** The latency in µs below which `q` (0..1) of recorded values fall. */
  static quantile(counts: ArrayLike<number>, q: number): number {
    let total = 0;
    for (let i = 0; i < counts.length; i++) total += counts[i]!;
    if (total === 0) return Number.NaN;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= q * total) return i === 0 ? 0.5 : Math.exp((i - 0.5) / Histogram.STEPS_PER_E);
    }
    return Number.NaN;
  }
}
