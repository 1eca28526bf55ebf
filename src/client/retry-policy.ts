import { pump } from './body.js';
import { BadContentTypeError, HttpStatusError, NoContentError, SSEClientError } from './errors.js';

/**
 * Whether `error` ends the subscription instead of leading to a reconnect. Retried with backoff:
 * network errors, the stream ending, HTTP 5xx, 408 and 429.
 */
export function isFatal(error: unknown): boolean {
  if (!(error instanceof SSEClientError)) return false;
  const { status } = error as HttpStatusError; // undefined for the other SSEClientErrors
  return !(status >= 500 || status === 408 || status === 429);
}

/**
 * Throws the reason a response is not an event stream (retryable or not); returns if it is. A
 * refused status with a text reply carries its start: the server's own words ("Stream "x" does
 * not exist…") say more than the status does.
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
      /^text\//i.test(type) ? await replyStart(res.body) : '',
    );
  }
  if (!isEventStream(type)) throw new BadContentTypeError(type, url);
}

/** Up to 1 KiB of a reply's text, read for at most a second; the rest is not waited for. */
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
  const at = Date.parse(text); // NaN for '' (no header) too
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
