import { EventTooLargeError as ParserTooLarge } from '../protocol/errors.js';
import { EventParser } from '../protocol/parser.js';
import type { SSEEvent } from '../protocol/types.js';
import { type BackoffSettings, backoffDelay, sleep } from './backoff.js';
import { cancelQuietly, pump } from './body.js';
import {
  BadBase64Error,
  ConnectionLostError,
  EventSizeExceededError,
  HeadersFailedError,
  HttpStatusError,
  MaxRetriesError,
  SSEClientError,
  ValidatorRefusedError,
} from './errors.js';
import { requestHeaders } from './request-headers.js';
import { checkResponse, isFatal } from './retry-policy.js';
import type { ClientOptions } from './types.js';

const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024;

/** Where a subscription's events and state changes go. */
export interface StreamSink {
  event(e: SSEEvent): void;
  /** Called after each chunk: a promise to wait for before reading more (backpressure). */
  pause?(): Promise<void> | undefined;
  connected(open: boolean): void;
  lastEventId(id: string): void;
}

/** An error from the user's code (handler, onConnect) or data (base64): ends the subscription as is. */
class Passthrough {
  declare readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * Connect to `url`, read events, and reconnect with backoff until `signal` aborts (resolves), a
 * fatal error (rejects), or, with `reconnect: false`, the end of the stream. The options are read
 * once, here.
 */
export async function runStream(
  url: string,
  options: ClientOptions,
  backoff: BackoffSettings | false,
  sink: StreamSink,
  signal: AbortSignal,
  lastEventId: string,
): Promise<void> {
  const {
    headers,
    method = 'GET',
    body = null,
    responseValidator,
    onConnect,
    onDisconnect,
  } = options;
  const fetchFn = options.fetch ?? globalThis.fetch;
  let serverRetry: number | undefined;
  // Whether the current connection delivered an event: only that makes it a successful connect.
  let delivered = false;
  // The id of the last event handed out, and whether an abort dropped events parsed after it.
  let handedOut = lastEventId;
  let dropped = false;
  const decoder = options.encodingBase64 === true ? new TextDecoder() : undefined;
  const parser = new EventParser(
    {
      onEvent(e) {
        // Events already parsed from the current chunk are not handed out after an abort, and a
        // later subscription must resume before them, not after.
        if (signal.aborted) {
          dropped = true;
          return;
        }
        delivered = true;
        handedOut = e.id;
        try {
          if (decoder) e.data = decodeBase64(e.data, decoder);
          sink.event(e);
        } catch (error) {
          throw new Passthrough(error);
        }
      },
      // "set the event stream's reconnection time to that integer" — our backoff base.
      onRetry(ms) {
        serverRetry = ms;
      },
    },
    { maxEventSize: options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE },
  );
  parser.lastEventId = lastEventId;

  /** One request; resolves with an accepted response or throws why not. */
  const connect = async (): Promise<Response> => {
    let sent: Headers;
    try {
      sent = await requestHeaders(headers, parser.lastEventId);
    } catch (e) {
      throw new HeadersFailedError(e);
    }
    const res = await fetchFn(url, {
      method,
      headers: sent,
      body: body as BodyInit | null,
      cache: 'no-store',
      signal,
    });
    try {
      // The built-in checks (and so the retry policy) first: the validator sees only responses
      // the client would accept, so a validator that refuses anything not ok cannot make a 503
      // final.
      await checkResponse(res, url);
      if (!res.body) throw new TypeError('the response has no body');
      try {
        await responseValidator?.(res);
      } catch (e) {
        throw new ValidatorRefusedError(e);
      }
    } catch (e) {
      // Free the connection before waiting or giving up.
      cancelQuietly(res.body);
      throw e;
    }
    return res;
  };

  // Consecutive failed connects: a connect succeeds once its response delivers an event (or stays
  // open, quietly, for maxDelayMs), so a server that accepts and closes at once counts as failing.
  let failures = 0;
  for (;;) {
    if (signal.aborted) return;
    let error: unknown;
    let accepted = false;
    let openedAt = 0;
    delivered = false;
    try {
      const res = await connect();
      accepted = true;
      openedAt = Date.now();
      sink.connected(true);
      try {
        onConnect?.();
      } catch (e) {
        throw new Passthrough(e);
      }
      await pump(
        res.body!,
        (chunk) => {
          try {
            parser.feed(chunk);
          } finally {
            // Also when a handler threw or an event was too large: what was handed out counts.
            sink.lastEventId(dropped ? handedOut : parser.lastEventId);
          }
        },
        signal,
        sink.pause,
      );
    } catch (e) {
      error = e instanceof ParserTooLarge ? new EventSizeExceededError(e.limit, e.message) : e;
    }
    parser.reset();
    if (accepted) {
      sink.connected(false);
      onDisconnect?.(signal.aborted || error instanceof Passthrough ? undefined : error);
    }
    if (signal.aborted) return;
    if (error instanceof Passthrough) throw error.error;
    if (isFatal(error)) throw error;
    if (backoff === false) {
      if (error === undefined) return;
      throw error instanceof SSEClientError ? error : new ConnectionLostError(error);
    }
    if (delivered || (accepted && Date.now() - openedAt >= backoff.maxDelayMs)) failures = 0;
    if (failures >= backoff.maxRetries) {
      const ended = `the server ended the stream${delivered ? '' : ' before any event'}`;
      throw new MaxRetriesError(failures + 1, error ?? new Error(ended));
    }
    const retryAfter = error instanceof HttpStatusError ? error.retryAfterMs : undefined;
    // A Retry-After of 0 is honoured like a server's `retry: 0`: at once the first time only.
    const delay =
      retryAfter || backoffDelay(backoff, failures, retryAfter === undefined ? serverRetry : 0);
    // Retry-After is the server's to set, past maxDelayMs too (API.md: it "is honoured"); the
    // backoff's own jitter may take a delay past maxDelayMs as well, or clients at the cap
    // would all reconnect together.
    await sleep(delay, signal);
    failures++;
  }
}

function decodeBase64(text: string, decoder: TextDecoder): string {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new BadBase64Error(text);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return decoder.decode(bytes);
}
