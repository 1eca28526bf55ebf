import type { SSEEvent } from '../protocol/types.js';

type Result = IteratorResult<SSEEvent, undefined>;

/**
 * The buffer between a connection and an `events()` consumer. Holding `highWaterMark` events or
 * more, it asks the reader to pause; the reader resumes once the consumer has taken half of them.
 */
export class EventQueue {
  #items: (SSEEvent | undefined)[] = [];
  #head = 0;
  #closed = false;
  /** A consumer waiting for the next event. */
  #waiter: { resolve(r: Result): void; reject(e: unknown): void } | undefined;
  /** A reader waiting for room. */
  #resume: (() => void) | undefined;
  #failure: { error: unknown } | undefined;

  readonly #highWaterMark: number;

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(e: SSEEvent): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) w.resolve({ value: e, done: false });
    else this.#items.push(e);
  }

  /** After a chunk: undefined to go on reading, or a promise to wait for first. */
  pause(): Promise<void> | undefined {
    if (this.#closed || this.size < this.#highWaterMark) return undefined;
    return new Promise((resolve) => {
      this.#resume = resolve;
    });
  }

  /** No more events: the iterator drains what is buffered, then ends (or rejects with `error`). */
  end(error?: unknown): void {
    if (error !== undefined) this.#failure = { error };
    this.#closed = true;
    this.#wake();
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) this.next().then(w.resolve, w.reject);
  }

  /** The consumer stopped: drop the buffer and let a paused reader go. */
  close(): void {
    this.#items = [];
    this.#head = 0;
    this.#failure = undefined;
    this.end();
  }

  next(): Promise<Result> {
    if (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined;
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      if (this.size <= this.#highWaterMark >> 1) this.#wake();
      return Promise.resolve({ value, done: false });
    }
    const f = this.#failure;
    this.#failure = undefined;
    if (f) return Promise.reject(f.error);
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #wake(): void {
    const r = this.#resume;
    this.#resume = undefined;
    r?.();
  }
}
