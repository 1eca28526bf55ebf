import type { SSEEvent } from '../protocol/types.js';
import { type BackoffSettings, backoffSettings } from './backoff.js';
import { runStream, type StreamSink } from './connection.js';
import { EventQueue } from './event-queue.js';
import type { ClientOptions, SubscribeOptions } from './types.js';

/** Events `events()` buffers before it stops reading the body. */
const EVENTS_HIGH_WATER_MARK = 256;

/** Streams whose last event id a client keeps (see `#ids`). */
const MAX_REMEMBERED = 1000;

/**
 * A Server-Sent Events client over `fetch`: subscribe to a stream with a handler or an async
 * iterator; it reconnects with backoff and resumes from the last event id.
 */
export class SSEClient {
  // `#` fields: the minifier shortens their names, which it cannot do for `private` ones.
  /** The id every URL resumes from until a subscription to it has seen one of its own. */
  #seed: string;
  /** The newest last event id any subscription saw. */
  #newest: string;
  /**
   * The last event id per subscribed URL (one per stream), so streams never trade ids; the
   * MAX_REMEMBERED most recently used, so a client that subscribes per job does not grow.
   */
  readonly #ids = new Map<string, string>();
  readonly #url: URL;
  readonly #options: ClientOptions;
  readonly #backoff: BackoffSettings | false;
  readonly #controllers = new Set<AbortController>();
  #open = 0;

  constructor(url: string | URL, options: ClientOptions = {}) {
    this.#url = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
    this.#options = options;
    this.#seed = this.#newest = options.lastEventId ?? '';
    this.#backoff = options.reconnect !== false && backoffSettings(options.reconnect);
    const method = options.method ?? 'GET';
    checkBody(method, options.body);
    // A method fetch refuses (CONNECT, TRACE, a bad token) would fail every attempt forever as
    // if the network were down: refuse it here, once.
    new Request(this.#url, { method });
  }

  /**
   * The newest last event id any subscription of this client saw (the `lastEventId` option until
   * then). Each stream resumes from its own id; setting this makes every later subscription, of
   * any stream, start from the id set ('' for a fresh start).
   */
  get lastEventId(): string {
    return this.#newest;
  }
  set lastEventId(id: string) {
    this.#seed = this.#newest = id;
    this.#ids.clear();
  }

  /** Whether a subscription currently has an accepted connection. */
  get connected(): boolean {
    return this.#open > 0;
  }

  /** Subscribe to `stream` (as `?stream=NAME`); resolves when aborted or unsubscribed. */
  subscribe(
    stream: string,
    handler: (e: SSEEvent) => void,
    opts: SubscribeOptions = {},
  ): Promise<void> {
    return this.#run(this.#streamUrl(stream), handler, opts.signal);
  }

  /** Subscribe to the URL as it is. */
  subscribeRaw(handler: (e: SSEEvent) => void, opts: SubscribeOptions = {}): Promise<void> {
    return this.#run(this.#url.href, handler, opts.signal);
  }

  /**
   * The events as an async iterator. The connection opens on the first `next()`; a consumer that
   * stops pulling stops the reading after a bounded buffer (EVENTS_HIGH_WATER_MARK events; reading
   * resumes once half of them are taken); leaving the loop closes the connection.
   */
  events(stream?: string, opts: SubscribeOptions = {}): AsyncIterableIterator<SSEEvent> {
    const queue = new EventQueue(EVENTS_HIGH_WATER_MARK);
    const controller = new AbortController();
    const url = stream === undefined ? this.#url.href : this.#streamUrl(stream);
    let running: Promise<void> | undefined;
    // An abort ends the iteration at once, dropping what is buffered.
    const onAbort = () => queue.close();
    const iterator: AsyncIterableIterator<SSEEvent> = {
      next: () => {
        if (!running) {
          opts.signal?.addEventListener('abort', onAbort);
          running = this.#run(
            url,
            (e) => queue.push(e),
            opts.signal,
            controller,
            () => queue.pause(),
          ).then(
            () => queue.end(),
            (error) => queue.end(error),
          );
          running.finally(() => opts.signal?.removeEventListener('abort', onAbort));
        }
        return queue.next();
      },
      return: async () => {
        controller.abort();
        queue.close();
        await running;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** End every subscription of this client. */
  unsubscribe(): void {
    for (const c of this.#controllers) c.abort();
  }

  #streamUrl(stream: string): string {
    const u = new URL(this.#url);
    u.searchParams.set(this.#options.streamParam ?? 'stream', stream);
    return u.href;
  }

  /**
   * Run one subscription to `url` until `signal` (or `controller`) aborts; the events go to
   * `handler`, and `url` keeps its own last event id.
   */
  async #run(
    url: string,
    handler: (e: SSEEvent) => void,
    signal: AbortSignal | undefined,
    controller = new AbortController(),
    pause?: StreamSink['pause'],
  ): Promise<void> {
    if (signal?.aborted) return;
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort);
    this.#controllers.add(controller);
    const ids = this.#ids;
    try {
      await runStream(
        url,
        this.#options,
        this.#backoff,
        {
          event: (e) => {
            this.#newest = e.id;
            handler(e);
          },
          pause,
          connected: (open) => {
            this.#open += open ? 1 : -1;
          },
          lastEventId: (id) => {
            this.#newest = id;
            ids.delete(url); // re-inserted last: the Map's order is the order of use
            ids.set(url, id);
            if (ids.size > MAX_REMEMBERED) ids.delete(ids.keys().next().value!);
          },
        },
        controller.signal,
        ids.get(url) ?? this.#seed,
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#controllers.delete(controller);
    }
  }
}

/**
 * A body must be one `fetch` can send again on every reconnect, on a method that takes one. Checked
 * here, not left to `new Request`: some runtimes (Bun) let a GET with a body through.
 */
function checkBody(method: string, body: unknown): void {
  if (body == null) return;
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') {
    throw new TypeError(`A ${m} request cannot have a body: set the method, e.g. 'POST'`);
  }
  if (
    typeof body !== 'string' &&
    !ArrayBuffer.isView(body) &&
    // Every runtime the client supports has these (Node 20, browsers, Deno, Bun, workers).
    ![ArrayBuffer, Blob, URLSearchParams, FormData].some((type) => body instanceof type)
  ) {
    throw new TypeError(
      'body is sent on every reconnect: use a string, bytes, Blob, FormData or URLSearchParams, not a stream',
    );
  }
}
