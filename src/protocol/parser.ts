import { EventTooLargeError } from './errors.js';
import type { ParserHandlers, ParserOptions, SSEEvent } from './types.js';

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const utf8 = new TextEncoder();

/**
 * An incremental event-stream parser, after the WHATWG HTML "event stream interpretation".
 *
 * Bytes are decoded with one streaming UTF-8 decoder, so any split of the same bytes into chunks
 * gives the same events. Lines are found with native `indexOf` scans whose positions are cached,
 * so no byte is looked at more than a few times, whatever the chunking. With `maxEventSize`, line
 * ends are counted on the bytes first, so the limit is exact in UTF-8 bytes and memory stays bounded.
 */
export class EventParser {
  private readonly handlers: ParserHandlers;
  private readonly limit: number;
  private decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  // The spec's buffers. `data` is undefined until a data line arrives in this block.
  private lastId = '';
  private idBuffer = '';
  private type = '';
  private data: string | undefined;
  private retry: number | undefined;

  // Text-level line state.
  private pending: string[] = []; // pieces of an unfinished line
  private skipLF = false; // the last piece ended in CR: a leading LF belongs to it
  private atStart = true; // a leading BOM is still to be stripped

  // Byte-level accounting, only with a finite maxEventSize.
  private lineBytes = 0;
  private blockBytes = 0;
  private afterCR = false;
  private discarding = false; // skipping the rest of an oversize event
  private carry: Uint8Array | undefined; // bytes after an overflow, parsed on the next feed
  private highSurrogate = ''; // the first half of a pair that a text chunk ended with

  constructor(handlers: ParserHandlers, opts: ParserOptions = {}) {
    this.handlers = handlers;
    const max = opts.maxEventSize ?? Number.POSITIVE_INFINITY;
    if (!(max > 0)) throw new RangeError(`maxEventSize must be a positive number, got ${max}`);
    this.limit = max;
  }

  /** The last event id dispatched; set it to resume where a previous stream left off. */
  get lastEventId(): string {
    return this.lastId;
  }
  set lastEventId(id: string) {
    this.lastId = id;
    this.idBuffer = id;
  }

  feed(chunk: string | Uint8Array): void {
    if (this.limit === Number.POSITIVE_INFINITY) {
      this.parseText(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
      return;
    }
    let bytes: Uint8Array;
    if (typeof chunk === 'string') {
      // A string may end between the halves of a surrogate pair: hold the high half back, so
      // the pair is encoded whole (as the same text fed in one piece would be).
      if (this.highSurrogate !== '') {
        chunk = this.highSurrogate + chunk;
        this.highSurrogate = '';
      }
      const last = chunk.charCodeAt(chunk.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        this.highSurrogate = chunk.slice(-1);
        chunk = chunk.slice(0, -1);
      }
      bytes = utf8.encode(chunk);
    } else bytes = chunk;
    if (this.carry) {
      const joined = new Uint8Array(this.carry.length + bytes.length);
      joined.set(this.carry);
      joined.set(bytes, this.carry.length);
      this.carry = undefined;
      bytes = joined;
    }
    this.feedCounted(bytes);
  }

  /** The stream ended: an event without its closing blank line is discarded, as the spec says. */
  end(): void {
    this.reset();
  }

  /** Drop the partial line and event and the BOM state, keeping `lastEventId` for a reconnect. */
  reset(): void {
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    this.clearEvent();
    this.atStart = true;
    this.lineBytes = 0;
    this.blockBytes = 0;
    this.afterCR = false;
    this.discarding = false;
    this.carry = undefined;
    this.highSurrogate = '';
  }

  private clearEvent(): void {
    this.idBuffer = this.lastId;
    this.type = '';
    this.data = undefined;
    this.retry = undefined;
    this.pending.length = 0;
    this.skipLF = false;
  }

  /** Count line and block sizes on the raw bytes; parse what is within the limit. */
  private feedCounted(b: Uint8Array): void {
    const n = b.length;
    let i = 0;
    let from = this.discarding ? -1 : 0; // where the text to parse starts
    let blockStart = this.blockBytes === 0 ? 0 : -1; // -1: the block began in an earlier chunk
    if (this.afterCR && n > 0) {
      this.afterCR = false;
      if (b[0] === LF) i = 1;
    }
    let lf = -1;
    let cr = -1;
    while (i < n) {
      if (lf < i) lf = indexOrEnd(b, LF, i);
      if (cr < i) cr = indexOrEnd(b, CR, i);
      const t = lf < cr ? lf : cr;
      this.lineBytes += t - i;
      this.blockBytes += t - i;
      if (!this.discarding && this.blockBytes > this.limit) {
        this.overflow(b, from, blockStart, t);
      }
      if (t === n) break;
      let next = t + 1;
      if (t === cr) {
        if (next < n) {
          if (b[next] === LF) next++;
        } else this.afterCR = true;
      }
      if (this.lineBytes === 0) {
        // A blank line ends the block (dispatch, at the text level).
        this.blockBytes = 0;
        blockStart = next;
        if (this.discarding) {
          this.discarding = false;
          this.skipLF = this.afterCR;
          from = next;
        }
      }
      this.lineBytes = 0;
      i = next;
    }
    if (from >= 0 && from < n) {
      this.parseText(this.decoder.decode(from === 0 ? b : b.subarray(from), { stream: true }));
    }
  }

  private overflow(b: Uint8Array, from: number, blockStart: number, stop: number): never {
    // Events that ended before the oversize one still go out, in order.
    if (from >= 0 && blockStart > from) {
      this.parseText(this.decoder.decode(b.subarray(from, blockStart), { stream: true }));
    }
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    this.clearEvent();
    this.discarding = true;
    this.lineBytes = 1; // mid-line: the next blank line ends the oversize event
    if (stop < b.length) this.carry = b.subarray(stop);
    throw new EventTooLargeError(this.limit);
  }

  private parseText(s: string): void {
    const n = s.length;
    let pos = 0;
    if (n === 0) return;
    if (this.atStart) {
      this.atStart = false;
      // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
      if (s.charCodeAt(0) === 0xfeff) pos = 1;
    }
    if (this.skipLF && pos < n) {
      this.skipLF = false;
      if (s.charCodeAt(pos) === LF) pos++;
    }
    let lf = -1;
    let cr = -1;
    let colon = -1;
    while (pos < n) {
      if (lf < pos) lf = stringIndexOrEnd(s, '\n', pos);
      if (cr < pos) cr = stringIndexOrEnd(s, '\r', pos);
      const end = lf < cr ? lf : cr;
      if (end === n) {
        this.pending.push(pos === 0 ? s : s.slice(pos));
        return;
      }
      if (this.pending.length > 0) {
        this.pending.push(s.slice(pos, end));
        const line = this.pending.join('');
        this.pending.length = 0;
        this.line(line, 0, line.length, stringIndexOrEnd(line, ':', 0));
      } else {
        if (colon < pos) colon = stringIndexOrEnd(s, ':', pos);
        this.line(s, pos, end, colon);
      }
      // "Lines must be separated by either a CRLF pair, a single LF, or a single CR."
      pos = end + 1;
      if (end === cr) {
        if (pos === n) this.skipLF = true;
        else if (s.charCodeAt(pos) === LF) pos++;
      }
    }
  }

  /** One line, s[start, end), whose first colon is at `colon` (or past `end`). */
  private line(s: string, start: number, end: number, colon: number): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (start === end) return this.dispatch();
    if (colon === start) {
      // "If the line starts with a U+003A COLON character: Ignore the line." — a comment.
      if (this.handlers.onComment) {
        const from = start + 1 < end && s.charCodeAt(start + 1) === SPACE ? start + 2 : start + 1;
        this.handlers.onComment(s.slice(from, end));
      }
      return;
    }
    let nameEnd = end;
    let value = '';
    if (colon < end) {
      nameEnd = colon;
      // "If value starts with a U+0020 SPACE character, remove it from value."
      const from = s.charCodeAt(colon + 1) === SPACE && colon + 1 < end ? colon + 2 : colon + 1;
      value = s.slice(from, end);
    }
    switch (nameEnd - start) {
      case 4:
        if (s.startsWith('data', start)) {
          this.data = this.data === undefined ? value : `${this.data}\n${value}`;
        }
        return;
      case 5:
        if (s.startsWith('event', start)) this.type = value;
        else if (s.startsWith('retry', start) && isDigits(value)) {
          // "If the field value consists of only ASCII digits, then interpret the field value as
          // an integer in base ten, and set the event stream's reconnection time to that integer."
          this.retry = Number(value);
          this.handlers.onRetry?.(this.retry);
        }
        return;
      case 2:
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer."
        if (s.startsWith('id', start) && !value.includes('\0')) this.idBuffer = value;
        return;
    }
  }

  private dispatch(): void {
    // "Set the last event ID string of the event source to the value of the last event ID buffer."
    this.lastId = this.idBuffer;
    const data = this.data;
    const type = this.type;
    const retry = this.retry;
    this.data = undefined;
    this.type = '';
    this.retry = undefined;
    // "If the data buffer is an empty string, set the data buffer and the event type buffer to
    // the empty string and return."
    if (data === undefined) return;
    const event: SSEEvent = { id: this.lastId, event: type === '' ? 'message' : type, data };
    if (retry !== undefined) event.retry = retry;
    this.handlers.onEvent(event);
  }
}

function indexOrEnd(b: Uint8Array, byte: number, from: number): number {
  const i = b.indexOf(byte, from);
  return i < 0 ? b.length : i;
}

function stringIndexOrEnd(s: string, ch: string, from: number): number {
  const i = s.indexOf(ch, from);
  return i < 0 ? s.length : i;
}

function isDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
