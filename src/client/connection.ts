import { EventTooLargeError as ParserTooLarge } from '../protocol/errors.js';
import { EventParser } from '../protocol/parser.js';
import type { SSEEvent } from '../protocol/types.js';
import { type BackoffSettings, backoffDelay, sleep } from './backoff.js';
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
import type { HeadersOption, ResendableBody } from './types.js';

/** Everything one subscription needs to connect, fixed for its lifetime. */
export interface StreamSetup {
  url: string;
  method: string;
  headers: HeadersOption | undefined;
  body: ResendableBody | undefined;
  fetch: typeof globalThis.fetch;
  backoff: BackoffSettings | false;
  maxEventSize: number;
  base64: boolean;
  validator: ((res: Response) => void | Promise<void>) | undefined;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: unknown) => void) | undefined;
}

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
  constructor(readonly error: unknown) {}
}

/**
 * Connect, read events, and reconnect with backoff until `signal` aborts (resolves), a fatal
 * error (rejects), or, with `reconnect: false`, the end of the stream.
 */
export async function runStream(
  setup: StreamSetup,
  sink: StreamSink,
  signal: AbortSignal,
  lastEventId: string,
): Promise<void> {
  let serverRetry: number | undefined;
  // Whether the current connection delivered an event: only that makes it a successful connect.
  let delivered = false;
  // The id of the last event handed out, and whether an abort dropped events parsed after it.
  let handedOut = lastEventId;
  let dropped = false;
  const decoder = setup.base64 ? new TextDecoder() : undefined;
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
    { maxEventSize: setup.maxEventSize },
  );
  parser.lastEventId = lastEventId;
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
      const res = await connect(setup, parser.lastEventId, signal);
      accepted = true;
      openedAt = Date.now();
      sink.connected(true);
      try {
        setup.onConnect?.();
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
        sink,
        signal,
      );
    } catch (e) {
      error =
        e instanceof Passthrough
          ? e
          : e instanceof ParserTooLarge
            ? new EventSizeExceededError(e.limit, e.message)
            : e;
    }
    parser.reset();
    if (accepted) {
      sink.connected(false);
      setup.onDisconnect?.(signal.aborted || error instanceof Passthrough ? undefined : error);
    }
    if (signal.aborted) return;
    if (error instanceof Passthrough) throw error.error;
    if (isFatal(error)) throw error;
    const backoff = setup.backoff;
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
      retryAfter === undefined
        ? backoffDelay(backoff, failures, serverRetry)
        : retryAfter || backoffDelay(backoff, failures, 0);
    // Retry-After is the server's to set, past maxDelayMs too (API.md: it "is honoured"); the
    // backoff's own jitter may take a delay past maxDelayMs as well, or clients at the cap
    // would all reconnect together.
    await sleep(delay, signal);
    failures++;
  }
}

/** One request; resolves with an accepted response or throws why not. */
async function connect(
  setup: StreamSetup,
  lastEventId: string,
  signal: AbortSignal,
): Promise<Response> {
  let headers: Headers;
  try {
    headers = await requestHeaders(setup.headers, lastEventId);
  } catch (e) {
    throw new HeadersFailedError(e);
  }
  const fetchFn = setup.fetch;
  const res = await fetchFn(setup.url, {
    method: setup.method,
    headers,
    body: (setup.body ?? null) as BodyInit | null,
    cache: 'no-store',
    signal,
  });
  try {
    // The built-in checks (and so the retry policy) first: the validator sees only responses the
    // client would accept, so a validator that refuses anything not ok cannot make a 503 final.
    checkResponse(res, setup.url);
    if (!res.body) throw new TypeError('the response has no body');
    if (setup.validator) {
      try {
        await setup.validator(res);
      } catch (e) {
        throw new ValidatorRefusedError(e);
      }
    }
  } catch (e) {
    if (e instanceof HttpStatusError && /^text\//i.test(res.headers.get('content-type') ?? '')) {
      // The server's own words ("Stream "x" does not exist…") say more than the status does.
      throw new HttpStatusError(e.status, e.url, e.retryAfterMs, await replyStart(res));
    }
    // Free the connection before waiting or giving up.
    res.body?.cancel().catch(() => {});
    throw e;
  }
  return res;
}

/** Up to 1 KiB of a reply's text, read for at most a second; the rest is not waited for. */
async function replyStart(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const timer = setTimeout(() => reader.cancel().catch(() => {}), 1000);
  let text = '';
  try {
    while (text.length < 1024) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // cut short: what came is enough
  }
  clearTimeout(timer);
  reader.cancel().catch(() => {});
  return text.slice(0, 1024).trim();
}

/** Hand the body's chunks to `feed` until it ends; throws on a network error. */
async function pump(
  body: ReadableStream<Uint8Array>,
  feed: (chunk: Uint8Array) => void,
  sink: StreamSink,
  signal: AbortSignal,
): Promise<void> {
  const reader = body.getReader();
  const onAbort = () => {
    reader.cancel().catch(() => {});
  };
  signal.addEventListener('abort', onAbort);
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      feed(value);
      const wait = sink.pause?.();
      if (wait) await wait;
      if (signal.aborted) return;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!finished) reader.cancel().catch(() => {});
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
