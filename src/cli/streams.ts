import type { SSEServer } from '../server/index.js';
import type { Refusal } from './limits.js';

export interface HubStreamLimits {
  /** Streams this hub holds at once; creating one more is refused with 503. */
  max: number;
  /** A stream with no subscriber and no publish for this long is let go. */
  idleMs: number;
  /**
   * Whether the broker keeps history outside this process (Redis): then a stream let go loses
   * nothing and comes back on the next subscribe or publish. In memory, only a stream with no
   * history left is let go, or its history would be lost.
   */
  historyOutlivesStream: boolean;
}

/**
 * The hub's streams: created on demand up to a maximum, and let go when idle, so a hub that sees
 * many short-lived stream names (one per user, per job) does not hold every one of them forever.
 */
export class HubStreams {
  private readonly lastUsed = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping = false;

  constructor(
    private readonly sse: SSEServer,
    /** Whether the broker holds history for the stream (rejects when it cannot say). */
    private readonly holdsHistory: (stream: string) => Promise<boolean>,
    private readonly subscribers: (stream: string) => number,
    private readonly settings: HubStreamLimits,
  ) {}

  /** Make sure the stream exists, or say why it cannot; marks it as used now. */
  open(name: string): Refusal | undefined {
    if (!this.sse.streamExists(name)) {
      if (this.lastUsed.size >= this.settings.max) {
        return {
          status: 503,
          reason: `This hub holds its maximum of ${this.settings.max} streams (--max-streams); retry later, or raise the limit.`,
        };
      }
      this.sse.createStream(name);
    }
    this.lastUsed.set(name, Date.now());
    return undefined;
  }

  /** Mark the stream as used now (a subscriber left, an event went out). */
  touch(name: string): void {
    if (this.lastUsed.has(name)) this.lastUsed.set(name, Date.now());
  }

  get size(): number {
    return this.lastUsed.size;
  }

  /** Sweep for idle streams every so often; the timer never keeps the process alive. */
  start(): void {
    const every = Math.max(1000, Math.min(60_000, this.settings.idleMs / 2));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Let go of every stream that has been idle for `idleMs`; resolves with how many. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let removed = 0;
    try {
      for (const [name, used] of [...this.lastUsed]) {
        if (!this.idle(name, used, now)) continue;
        if (!this.settings.historyOutlivesStream && (await this.keepsHistory(name))) continue;
        // Looked at again after the await: a subscriber or a publish may have come meanwhile.
        if (!this.idle(name, this.lastUsed.get(name), now)) continue;
        this.lastUsed.delete(name);
        this.sse.removeStream(name);
        removed++;
      }
    } finally {
      this.sweeping = false;
    }
    return removed;
  }

  private idle(name: string, used: number | undefined, now: number): boolean {
    return used !== undefined && now - used >= this.settings.idleMs && this.subscribers(name) === 0;
  }

  private async keepsHistory(name: string): Promise<boolean> {
    try {
      return await this.holdsHistory(name);
    } catch {
      return true; // cannot tell: keep it
    }
  }
}
