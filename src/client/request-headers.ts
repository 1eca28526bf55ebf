import type { HeadersOption } from './types.js';

const utf8 = new TextEncoder();

/** The headers of one connect: the user's (a function is called now), Accept and Last-Event-ID. */
export async function requestHeaders(
  option: HeadersOption | undefined,
  lastEventId: string,
): Promise<Headers> {
  const headers = new Headers(typeof option === 'function' ? await option() : option);
  if (!headers.has('accept')) headers.set('accept', 'text/event-stream');
  // "If the event source's last event ID string is not the empty string, set (`Last-Event-ID`,
  // last event ID string, UTF-8 encoded) in request's header list."
  if (lastEventId !== '') headers.set('last-event-id', byteString(lastEventId));
  return headers;
}

/** Header values are byte strings: one char per UTF-8 byte, so any id survives the trip. */
function byteString(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += String.fromCharCode(b);
  return out;
}
