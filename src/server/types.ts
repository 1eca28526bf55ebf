import type { Broker } from '../broker/types.js';

export interface HistoryOptions {
  /** Keep the newest this many events per stream (default 1000). */
  maxEvents?: number;
  /** Forget events older than this, in ms (default: no age limit). */
  maxAgeMs?: number;
}

export interface StreamOptions {
  /** This stream's history bounds; defaults to the server's. */
  history?: HistoryOptions;
  /** Events older than this (ms) are not replayed; defaults to the server's. */
  eventTTL?: number;
}

export interface CorsOptions {
  /** An exact origin, a list of them, or `true` (or `'*'`) for any origin. */
  origin: string | string[] | true;
  /** Allow cookies and HTTP auth (`Access-Control-Allow-Credentials`). */
  credentials?: boolean;
}

/** Why a subscriber went away. */
export type UnsubscribeReason =
  | 'client-closed' // the client disconnected
  | 'slow-subscriber' // its socket stopped draining past maxQueuedBytes
  | 'stream-removed' // removeStream()
  | 'server-closed' // close()
  | 'error'; // the transport failed

/** The request a subscriber came in with: `IncomingMessage` (node) or `Request` (fetch). */
export type SubscribeRequest =
  | import('node:http').IncomingMessage
  | import('node:http2').Http2ServerRequest
  | Request;

export interface SubscriberInfo {
  /** Unique within this server process. */
  connectionId: string;
  /** The Last-Event-ID the client sent ('' if none). */
  lastEventId: string;
  request: SubscribeRequest;
}

export interface UnsubscribeInfo extends SubscriberInfo {
  reason: UnsubscribeReason;
}

export interface ServerOptions {
  /** Create a stream on first subscribe or publish (default false). */
  autoStream?: boolean;
  /** Replay missed events to a client that sends Last-Event-ID (default true). */
  autoReplay?: boolean;
  /** History bounds per stream (default: newest 1000 events, no age limit). */
  history?: HistoryOptions;
  /** Events older than this (ms) are not replayed. */
  eventTTL?: number;
  /** Accepted for r3labs compatibility: data is always split on line ends. */
  splitData?: boolean;
  /** Send data as base64 of its UTF-8 bytes. */
  encodeBase64?: boolean;
  /** Extra response headers for subscribers. */
  headers?: Record<string, string>;
  /** A comment line this often, in ms, so proxies keep the connection (default 15000; 0: off). */
  keepAliveMs?: number;
  /** A subscriber this many bytes behind is disconnected (default 1 MiB). */
  maxQueuedBytes?: number;
  /**
   * A stream that gets events more often than it can write them one fan-out at a time holds
   * them for about as long as one fan-out takes, but never longer than this (ms), and sends them
   * in one write per subscriber (default 20; 0: write every tick's events at once).
   */
  maxWriteDelayMs?: number;
  /** The query parameter that names the stream (default 'stream'). */
  streamParam?: string;
  /** Where history lives and how events reach other processes (default a MemoryBroker). */
  broker?: Broker;
  /** Send `retry: retryMs` when a subscriber connects. */
  retryMs?: number;
  /** The `reset` event's type, sent when a Last-Event-ID cannot be resumed; null: don't send. */
  resetEvent?: string | null;
  /** Cross-origin subscribers (off by default). */
  cors?: CorsOptions;
  /** Decide whether a request may subscribe; false answers 403. */
  authorize?: (req: SubscribeRequest, streamId: string) => boolean | Promise<boolean>;
  onSubscribe?: (streamId: string, info: SubscriberInfo) => void;
  onUnsubscribe?: (streamId: string, info: UnsubscribeInfo) => void;
}
