import { BadContentTypeError, HttpStatusError, NoContentError, SSEClientError } from './errors.js';

/**
 * Retried with backoff: network errors, the stream ending, HTTP 5xx, 408 and 429. Everything
 * else the policy refuses ends the subscription.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Whether `error` ends the subscription instead of leading to a reconnect. */
export function isFatal(error: unknown): boolean {
  if (error instanceof HttpStatusError) return !isRetryableStatus(error.status);
  return error instanceof SSEClientError;
}

/** Throws the reason a response is not an event stream (retryable or not); returns if it is. */
export function checkResponse(res: Response, url: string): void {
  if (res.status === 204) throw new NoContentError(url);
  if (res.status < 200 || res.status > 299) {
    throw new HttpStatusError(res.status, url, parseRetryAfter(res.headers.get('retry-after')));
  }
  const type = res.headers.get('content-type') ?? '';
  if (!isEventStream(type)) throw new BadContentTypeError(type, url);
}

/** The MIME type's essence is `text/event-stream` (parameters such as charset are ignored). */
export function isEventStream(contentType: string): boolean {
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'text/event-stream';
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP-date; undefined if neither. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
