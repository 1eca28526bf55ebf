import { pump } from './body.js';
import { BadContentTypeError, HttpStatusError, NoContentError, SSEClientError } from './errors.js';

/**
 * Retried with backoff: network errors, the stream ending, HTTP 5xx, 408 and 429. Everything
 * else the policy refuses ends the subscription.
 */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Whether `error` ends the subscription instead of leading to a reconnect. */
export function isFatal(error: unknown): boolean {
  if (error instanceof HttpStatusError) return !isRetryableStatus(error.status);
  return error instanceof SSEClientError;
}

/**
 * Throws the reason a response is not an event stream (retryable or not); returns if it is. A
 * status that ends the subscription, with a text reply, carries the reply's start: the server's
 * own words ("Stream "x" does not exist…") say more than the status does. A retried status's reply
 * is not waited for: that could hold every retry up to a second.
 */
export async function checkResponse(res: Response, url: string): Promise<void> {
  const { status, headers } = res;
  const type = headers.get('content-type') ?? '';
  if (status === 204) throw new NoContentError(url);
  if (status < 200 || status > 299) {
    throw new HttpStatusError(
      status,
      url,
      parseRetryAfter(headers.get('retry-after')),
      !isRetryableStatus(status) && /^text\//i.test(type) ? await replyStart(res.body) : '',
    );
  }
  if (!isEventStream(type)) throw new BadContentTypeError(type, url);
}

/** Up to 1,024 characters of a reply, read for at most a second; the rest is not waited for. */
async function replyStart(body: ReadableStream<Uint8Array> | null): Promise<string> {
  const decoder = new TextDecoder();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 1000);
  let text = '';
  try {
    await pump(
      body!,
      (chunk) => {
        text += decoder.decode(chunk, { stream: true });
        if (text.length >= 1024) stop.abort();
      },
      stop.signal,
    );
  } catch {
    // cut short: what came is enough
  }
  clearTimeout(timer);
  return text.slice(0, 1024).trim();
}

/** The MIME type's essence is `text/event-stream` (parameters such as charset are ignored). */
export function isEventStream(contentType: string): boolean {
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'text/event-stream';
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP-date; undefined if neither. */
export function parseRetryAfter(value: string | null): number | undefined {
  const text = (value ?? '').trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form starts with the day's name; `Date.parse` alone takes "1.5" or "-1" for
  // dates in 2001, which would mean "at once".
  if (!/^(mon|tue|wed|thu|fri|sat|sun)/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
