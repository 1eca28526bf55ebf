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
      this.parseText(
        typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }),
      );
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
    const limit = this.limit;
    let i = 0;
    let from = this.discarding ? -1 : 0; // where the text to parse starts
    let blockStart = this.blockBytes === 0 ? 0 : -1; // -1: the block began in an earlier chunk
    if (this.afterCR && n > 0) {
      this.afterCR = false;
      if (b[0] === LF) i = 1;
    }
    if (from === 0 && this.blockBytes + (n - i) <= limit) {
      // This chunk cannot take the event past the limit: only the sizes at its end matter.
      this.countFromEnd(b, i);
      this.parseText(this.decoder.decode(b, { stream: true }));
      return;
    }
    let lineBytes = this.lineBytes;
    let blockBytes = this.blockBytes;
    let lineStart = i;
    // A plain loop over the bytes: lines are short in the common case, where a native indexOf
    // per line costs more than it saves.
    for (; i < n; i++) {
      const c = b[i];
      if (c !== LF && c !== CR) continue;
      lineBytes += i - lineStart;
      blockBytes += i - lineStart;
      if (blockBytes > limit && !this.discarding) {
        this.lineBytes = lineBytes;
        this.blockBytes = blockBytes;
        this.overflow(b, from, blockStart, i);
      }
      let next = i + 1;
      if (c === CR) {
        if (next < n) {
          if (b[next] === LF) next++;
        } else this.afterCR = true;
      }
      if (lineBytes === 0) {
        // A blank line ends the block (dispatch, at the text level).
        blockBytes = 0;
        blockStart = next;
        if (this.discarding) {
          this.discarding = false;
          this.skipLF = this.afterCR;
          from = next;
        }
      }
      lineBytes = 0;
      lineStart = next;
      i = next - 1;
    }
    lineBytes += n - lineStart;
    blockBytes += n - lineStart;
    this.lineBytes = lineBytes;
    this.blockBytes = blockBytes;
    if (blockBytes > limit && !this.discarding) this.overflow(b, from, blockStart, n);
    if (from >= 0 && from < n) {
      this.parseText(this.decoder.decode(from === 0 ? b : b.subarray(from), { stream: true }));
    }
  }

  /**
   * The line and block sizes after the bytes b[i0, n), found by walking back from the end to
   * the last blank line: for small events that is a few dozen bytes, whatever the chunk size.
   */
  private countFromEnd(b: Uint8Array, i0: number): void {
    const n = b.length;
    const j = Math.max(b.lastIndexOf(LF), b.lastIndexOf(CR));
    if (j < i0) {
      // No line end: the current line goes on.
      this.lineBytes += n - i0;
      this.blockBytes += n - i0;
      return;
    }
    this.afterCR = j === n - 1 && b[j] === CR;
    const tail = n - 1 - j; // the unfinished last line
    let content = tail; // content bytes of the block's lines after the point reached so far
    let end = j; // the last byte of a line end
    for (;;) {
      // A CR followed by LF is one line end.
      const first = b[end] === LF && end - 1 >= i0 && b[end - 1] === CR ? end - 1 : end;
      let k = first - 1;
      while (k >= i0 && b[k] !== LF && b[k] !== CR) k--;
      const len = first - 1 - k; // content of the line this line end closes
      if (k < i0) {
        // That line began before this chunk.
        if (len === 0 && this.lineBytes === 0)
          this.blockBytes = content; // it was blank
        else this.blockBytes += content + len;
        break;
      }
      if (len === 0) {
        this.blockBytes = content; // a blank line: the block started after it
        break;
      }
      content += len;
      end = k;
    }
    this.lineBytes = tail;
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
    // Each indexOf result is kept until the scan passes it, so a stream without CR costs one
    // CR search per chunk, and each line one LF search.
    let lf = stringIndexOrEnd(s, '\n', pos);
    let cr = stringIndexOrEnd(s, '\r', pos);
    if (this.pending.length > 0 && pos < n) {
      const end = Math.min(lf, cr);
      if (end === n) {
        this.pending.push(pos === 0 ? s : s.slice(pos));
        return;
      }
      this.pending.push(s.slice(pos, end));
      const line = this.pending.join('');
      this.pending.length = 0;
      this.line(line, 0, line.length);
      pos = this.afterLineEnd(s, end, cr);
      if (lf < pos) lf = stringIndexOrEnd(s, '\n', pos);
      if (cr < pos) cr = stringIndexOrEnd(s, '\r', pos);
    }
    while (pos < n) {
      const end = Math.min(lf, cr);
      if (end === n) {
        this.pending.push(pos === 0 ? s : s.slice(pos));
        return;
      }
      this.line(s, pos, end);
      pos = this.afterLineEnd(s, end, cr);
      if (lf < pos) lf = stringIndexOrEnd(s, '\n', pos);
      if (cr < pos) cr = stringIndexOrEnd(s, '\r', pos);
    }
  }

  /** Where the next line starts, after the line end at `end`. */
  private afterLineEnd(s: string, end: number, cr: number): number {
    // "Lines must be separated by either a CRLF pair, a single LF, or a single CR."
    const next = end + 1;
    if (end !== cr) return next;
    if (next === s.length) {
      this.skipLF = true; // the LF of a CRLF may start the next chunk
      return next;
    }
    return s.charCodeAt(next) === LF ? next + 1 : next;
  }

  /**
   * One line, s[start, end). The character at `end` is a line end (or past the string), so the
   * name checks below never match across the end of the line.
   */
  private line(s: string, start: number, end: number): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (start === end) {
      this.dispatch();
      return;
    }
    // "If the line contains a U+003A COLON character: Collect the characters on the line before
    // the first U+003A COLON character, and let field be that string." The four known names
    // are matched by their characters; any other name is ignored.
    switch (s.charCodeAt(start)) {
      case COLON:
        // "If the line starts with a U+003A COLON character: Ignore the line." — a comment.
        if (this.handlers.onComment) this.handlers.onComment(value(s, start, end));
        return;
      case 100: // d
        if (
          s.charCodeAt(start + 1) === 97 &&
          s.charCodeAt(start + 2) === 116 &&
          s.charCodeAt(start + 3) === 97 &&
          isNameEnd(s, start + 4, end)
        ) {
          // "Append the field value to the data buffer, then append a single U+000A LINE FEED"
          // — kept as lines joined with LF, which is the same once the last LF is removed.
          const v = value(s, start + 4, end);
          this.data = this.data === undefined ? v : `${this.data}\n${v}`;
        }
        return;
      case 105: // i
        if (s.charCodeAt(start + 1) === 100 && isNameEnd(s, start + 2, end)) {
          // "If the field value does not contain U+0000 NULL, then set the last event ID buffer
          // to the field value. Otherwise, ignore the field."
          const v = value(s, start + 2, end);
          if (!v.includes('\0')) this.idBuffer = v;
        }
        return;
      case 101: // e
        if (
          s.charCodeAt(start + 1) === 118 &&
          s.charCodeAt(start + 2) === 101 &&
          s.charCodeAt(start + 3) === 110 &&
          s.charCodeAt(start + 4) === 116 &&
          isNameEnd(s, start + 5, end)
        ) {
          // "Set the event type buffer to the field value."
          this.type = value(s, start + 5, end);
        }
        return;
      case 114: // r
        if (
          s.charCodeAt(start + 1) === 101 &&
          s.charCodeAt(start + 2) === 116 &&
          s.charCodeAt(start + 3) === 114 &&
          s.charCodeAt(start + 4) === 121 &&
          isNameEnd(s, start + 5, end)
        ) {
          const v = value(s, start + 5, end);
          // "If the field value consists of only ASCII digits, then interpret the field value as
          // an integer in base ten, and set the event stream's reconnection time to that integer.
          // Otherwise, ignore the field."
          if (isDigits(v)) {
            this.retry = Number(v);
            this.handlers.onRetry?.(this.retry);
          }
        }
        return;
    }
    // "Otherwise: The field is ignored."
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

/** Whether a field name that started earlier ends at `at`: at the colon, or at the line end. */
function isNameEnd(s: string, at: number, end: number): boolean {
  // "Otherwise, the string is not empty but does not contain a U+003A COLON character: Process
  // the field using the whole line as the field name, and the empty string as the field value."
  return at === end || s.charCodeAt(at) === COLON;
}

/** The value of a field whose name ends at `colon` (the colon itself, or the line end). */
function value(s: string, colon: number, end: number): string {
  if (colon >= end) return '';
  // "If value starts with a U+0020 SPACE character, remove it from value."
  const from = colon + 1 < end && s.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
  return s.slice(from, end);
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
