import { EventParser } from '../protocol/parser.js';
import { MAX_TIMER_MS } from './backoff.js';
import { cancelQuietly } from './body.js';
import { requestHeaders } from './request-headers.js';
import { isEventStream } from './retry-policy.js';
import type { HeadersOption } from './types.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** The standard `EventSourceInit`, plus request headers and a custom `fetch`. */
export interface EventSourceInit {
  withCredentials?: boolean;
  /** Extra request headers, or a (sync or async) function called before every connect. */
  headers?: HeadersOption;
  /** Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

type Handler = ((this: EventSource, ev: Event) => unknown) | null;
type MessageHandler = ((this: EventSource, ev: MessageEvent) => unknown) | null;

export interface EventSourceEventMap {
  error: Event;
  message: MessageEvent;
  open: Event;
}

/**
 * The HTML standard's `EventSource` ("server-sent events", §9.2) over `fetch`: the same
 * interface, readyState transitions and events as the browser's, in any runtime.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed listener overloads, as in lib.dom
export class EventSource extends EventTarget {
  // Constants and handler attributes are defined below (`#members`), as WebIDL has them.
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSED: 2;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSED: 2;

  // `declare`: set in the constructor, with no initializer code in the bundle. The `#` fields
  // below get short names from the minifier, which it cannot give `private` ones.
  declare readonly url: string;
  declare onopen: Handler;
  declare onmessage: MessageHandler;
  declare onerror: Handler;
  declare readonly withCredentials: boolean;
  #state: number = CONNECTING;
  readonly #init: EventSourceInit;
  readonly #parser: EventParser;
  // "reconnection time … an implementation-defined value, probably in the region of a few seconds"
  #reconnectionTime = 3000;
  #origin = '';
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The event handler attributes' values, and the one listener per type that calls them. */
  #handlers: Record<string, Handler | undefined> = {};
  #handlerListeners: Record<string, (e: Event) => void> = {};
  /**
   * Every event type a listener was ever added for: an event of any other type would reach no
   * one, so no MessageEvent is built for it. Types are never taken out (a `once` or `signal`
   * listener leaves without a call to removeEventListener), so this can only err toward building.
   */
  #listened = new Set<string>();
  /**
   * The type of the last event and whether it is in `listened`: a Set lookup hashes the parser's
   * fresh type string each time, while comparing with the last one costs a third as much.
   * Adding a listener clears it.
   */
  #lastType: string | undefined;
  #lastTypeHeard = false;

  constructor(url: string | URL, init?: EventSourceInit | null) {
    super();
    init ??= {}; // WebIDL: a null dictionary is an empty one
    // "Let urlRecord be the result of encoding-parsing a URL given url, relative to settings.
    // If urlRecord is failure, then throw a "SyntaxError" DOMException."
    try {
      this.url = new URL(url, (globalThis as { location?: { href: string } }).location?.href).href;
    } catch {
      throw new DOMException(`Invalid URL: ${url}`, 'SyntaxError');
    }
    this.withCredentials = init.withCredentials === true;
    this.#init = init;
    this.#parser = new EventParser({
      onEvent: (e) => {
        // "If the readyState attribute is set to a value other than CLOSED, dispatch the event."
        if (this.#state === CLOSED) return;
        if (e.event !== this.#lastType) {
          this.#lastType = e.event;
          this.#lastTypeHeard = this.#listened.has(e.event);
        }
        if (!this.#lastTypeHeard) return;
        this.dispatchEvent(
          new MessageEvent(e.event, { data: e.data, lastEventId: e.id, origin: this.#origin }),
        );
      },
      onRetry: (ms) => {
        this.#reconnectionTime = ms;
      },
    });
    this.#connect();
  }

  /**
   * The constants, read-only on the interface and its prototype, and the event handler
   * attributes on the prototype. A static field rather than a static block, which Safari
   * before 16.4 and Chrome before 94 cannot parse.
   */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: evaluated once, for what it defines
  static #members = (() => {
    for (const [value, name] of ['CONNECTING', 'OPEN', 'CLOSED'].entries()) {
      for (const target of [EventSource, EventSource.prototype]) {
        Object.defineProperty(target, name, { value, enumerable: true });
      }
    }
    for (const type of ['open', 'message', 'error']) {
      Object.defineProperty(EventSource.prototype, `on${type}`, {
        get(this: EventSource) {
          return this.#handlers[type] ?? null;
        },
        // Its listener is added when it is first set, and removed when it is set to null, so one
        // set again later runs after the listeners added in between.
        set(this: EventSource, fn: Handler) {
          const value = typeof fn === 'function' ? fn : null;
          // Returns nothing, as before: what an async handler returns stays the handler's own.
          const listener = (this.#handlerListeners[type] ??= (e) => {
            this.#handlers[type]?.call(this, e);
          });
          if (value === null) this.removeEventListener(type, listener);
          else if (!this.#handlers[type]) this.addEventListener(type, listener);
          this.#handlers[type] = value;
        },
        configurable: true,
      });
    }
  })();

  override addEventListener(
    type: string,
    // Wide enough for every overload below (a listener typed for MessageEvent included).
    listener:
      | EventListenerOrEventListenerObject
      | ((this: EventSource, ev: never) => unknown)
      | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    this.#listened.add(`${type}`); // as the DOMString the type becomes
    this.#lastType = undefined;
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  get readyState(): number {
    return this.#state;
  }

  /** "Abort any instances of the fetch algorithm started for this EventSource object, and set the readyState attribute to CLOSED." */
  close(): void {
    this.#state = CLOSED;
    clearTimeout(this.#timer);
    this.#controller?.abort();
  }

  async #connect(): Promise<void> {
    const controller = new AbortController();
    this.#controller = controller;
    let res: Response;
    try {
      const headers = await requestHeaders(this.#init.headers, this.#parser.lastEventId);
      const fetchFn = this.#init.fetch ?? globalThis.fetch;
      res = await fetchFn(this.url, {
        headers,
        mode: 'cors',
        credentials: this.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        signal: controller.signal,
      });
    } catch {
      // "If res is an aborted network error, then fail the connection. Otherwise, if res is a
      // network error, then reestablish the connection."
      // (Only close() aborts, and once closed, reestablishing does nothing.)
      this.#reestablish();
      return;
    }
    // "if res's status is not 200, or if res's `Content-Type` is not `text/event-stream`, then
    // fail the connection." (Failing does nothing once closed, as when close() aborted.)
    if (
      controller.signal.aborted ||
      res.status !== 200 ||
      !isEventStream(res.headers.get('content-type') ?? '') ||
      !res.body
    ) {
      cancelQuietly(res.body);
      this.#set(CLOSED, 'error');
      return;
    }
    // The origin of the event stream's final URL, after any redirects.
    this.#origin = new URL(res.url || this.url).origin;
    // "Announce the connection."
    this.#set(OPEN, 'open');
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#state === CLOSED) break;
        this.#parser.feed(value);
      }
    } catch {
      // A network error mid-stream: reconnect, as when the stream ends.
    }
    cancelQuietly(reader);
    this.#parser.reset();
    this.#reestablish();
  }

  /**
   * Unless closed: readyState `state`, then an event of `type`. "Announce the connection" is OPEN
   * and `open`; "fail the connection" is CLOSED and `error`, and no more reconnects.
   */
  #set(state: number, type: string): void {
    if (this.#state === CLOSED) return;
    this.#state = state;
    this.dispatchEvent(new Event(type));
  }

  /** "Reestablish the connection": readyState CONNECTING, an `error` event, wait, connect again. */
  #reestablish(): void {
    this.#set(CONNECTING, 'error');
    if (this.#state !== CONNECTING) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.#state === CONNECTING) this.#connect();
      },
      Math.min(this.#reconnectionTime, MAX_TIMER_MS),
    );
  }
}

export interface EventSource {
  addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: (this: EventSource, event: MessageEvent) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: (this: EventSource, event: MessageEvent) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
