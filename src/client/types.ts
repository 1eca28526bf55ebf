import type { SSEEvent } from '../protocol/types.js';

export type { SSEEvent };

/** Request headers, or a function (sync or async) called before every connect, e.g. to refresh a token. */
export type HeadersOption = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** A request body that can be sent again on every reconnect: string, bytes, Blob, URLSearchParams, FormData. */
export type ResendableBody =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | URLSearchParams
  | FormData;

/** How `SSEClient` reconnects. The delay before retry n (0-based) is `min(maxDelayMs, base × multiplierⁿ) ± jitter`. */
export interface ReconnectOptions {
  /** The base delay when the server sent no `retry`; default 1000. */
  initialDelayMs?: number;
  /** The longest delay; default 30000. */
  maxDelayMs?: number;
  /** Growth per consecutive failure; default 2. */
  multiplier?: number;
  /** Random variation, a fraction of the delay (0.2 = ±20%); default 0.2. */
  jitter?: number;
  /**
   * Consecutive failures allowed before giving up; default Infinity. A connect counts as
   * successful, resetting the count, once its response delivers an event (or stays open, quietly,
   * for maxDelayMs): a server that accepts and closes at once fails like one that refuses.
   */
  maxRetries?: number;
}

export interface ClientOptions {
  headers?: HeadersOption;
  /** Default 'GET'. */
  method?: string;
  body?: ResendableBody;
  /** Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** `false`: no reconnects; the subscription resolves when the server ends the stream. */
  reconnect?: ReconnectOptions | false;
  /** The id each stream resumes from on its first connect (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Most bytes one event may take before the subscription rejects; default 16 MiB. */
  maxEventSize?: number;
  /** Event data is base64 of UTF-8 text (r3labs' EncodeBase64): decode it. */
  encodingBase64?: boolean;
  /**
   * Sees each response the client would accept (2xx, not 204, `text/event-stream`), after the
   * status checks and the retry policy; throw to refuse it: the subscription rejects with
   * VALIDATOR_REFUSED.
   */
  responseValidator?: (res: Response) => void | Promise<void>;
  /** A response was accepted; called before any of its events. */
  onConnect?: () => void;
  /** An accepted connection ended: `error` is why, or undefined when the server ended the stream. */
  onDisconnect?: (error?: unknown) => void;
  /** The query parameter `subscribe` names the stream with; default 'stream'. */
  streamParam?: string;
}

export interface SubscribeOptions {
  signal?: AbortSignal;
}
