import { EventTooLargeError } from './errors.js';
import type { ParserHandlers, ParserOptions, SSEEvent } from './types.js';

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const utf8 = new TextEncoder();
/**
 * Decodes whole characters only, never with `{ stream: true }`. That is exact: a UTF-8 decoder is
 * back in its first state at any byte that is not a continuation byte (an unfinished sequence
 * before it becomes U+FFFD there, alone or mid-stream alike), so bytes cut just before such a
 * byte decode as they would inside the stream. And it is fast: Node's TextDecoder has a native
 * one-shot UTF-8 path, which one streaming call turns off for good; the streaming path is 3–4×
 * slower on 4 KB chunks.
 */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
/** Used only to find line ends in bytes (see LineEnds); it never decodes text. */
const latin1 = new TextDecoder('latin1');
const NO_BYTES = new Uint8Array(0);
/** Chunks up to this many bytes are held as bytes until a line ends (see parseBytes). */
const SHORT_CHUNK = 128;
/** Held whole lines are parsed once they pass this many bytes (a stream of `id:` lines, say). */
const HOLD_LINES = 4096;
/** Text chunks up to this many characters are searched for line ends by a loop (see parseText). */
const TINY_TEXT = 8;
/** How many bytes from a chunk's end LineEnds looks at one by one before a native scan. */
const TAIL_SCAN = 64;
/** V8 joins strings of at least this many characters by a rope node rather than a copy. */
const ROPE_NODE = 13;
/** The buffer of an unfinished line is let go once the line is done if it grew past this. */
const KEEP_HELD = 64 * 1024;

/**
 * An incremental event-stream parser, after the WHATWG HTML "event stream interpretation".
 *
 * A chunk of bytes is decoded in one call up to its last whole character, and its lines are read
 * from that string with native `indexOf` scans; an unfinished line is kept as a rope of its text
 * pieces, flattened once when it ends. Short chunks (a few bytes at a time) are held as bytes
 * until a line that has an effect ends, so they cost about one decode per event. With
 * `maxEventSize`, line ends are counted on the bytes first, so the limit is exact in UTF-8 bytes
 * and memory stays bounded.
 */
export class EventParser {
  readonly #handlers: ParserHandlers;
  readonly #limit: number;

  // The spec's buffers. `data` is undefined until a data line arrives in this block.
  #lastId = '';
  #idBuffer = '';
  #type = '';
  #data: string | undefined;
  #retry: number | undefined;

  // Line state. An unfinished line is in at most one of `partial` and `held`.
  #partial = ''; // an unfinished line's text, or '' (a kept piece is never empty)
  #tail = ''; // its last few characters while too few for a rope node (see keep)
  #held: Uint8Array = NO_BYTES; // held[0, heldLength): bytes of lines not parsed yet
  #heldLength = 0;
  #lineAt = 0; // where the held bytes' unfinished line starts; -1: before them (see parseShort)
  #skipLF = false; // the last line ended in CR: a leading LF belongs to it
  #atStart = true; // a leading BOM is still to be stripped
  #feeding = 0; // feed calls under way: a handler calling reset() is inside one

  // Byte-level accounting, only with a finite maxEventSize.
  #lineBytes = 0;
  #blockBytes = 0;
  #afterCR = false;
  #discarding = false; // skipping the rest of an oversize event
  #carry: Uint8Array | undefined; // bytes after an overflow, parsed on the next feed
  #highSurrogate = ''; // the first half of a pair that a text chunk ended with

  constructor(handlers: ParserHandlers, opts: ParserOptions = {}) {
    this.#handlers = handlers;
    const max = opts.maxEventSize ?? Infinity;
    if (!(max > 0)) throw new RangeError(`maxEventSize must be a positive number, got ${max}`);
    this.#limit = max;
  }

  /** The last event id dispatched; set it to resume where a previous stream left off. */
  get lastEventId(): string {
    return this.#lastId;
  }
  set lastEventId(id: string) {
    // Held lines came before this call: an `id:` among them must not win over it.
    if (this.#lineAt > 0) this.#parseHeldLines();
    this.#lastId = id;
    this.#idBuffer = id;
  }

  feed(chunk: string | Uint8Array): void {
    this.#feeding++;
    try {
      this.#feed(chunk);
    } finally {
      this.#feeding--;
    }
  }

  #feed(chunk: string | Uint8Array): void {
    if (this.#limit === Infinity) {
      if (typeof chunk !== 'string') this.#parseBytes(chunk);
      else {
        // Text after held bytes (rare): a character those bytes began cannot continue in text.
        // An empty string brings nothing, so the held bytes wait for the next chunk.
        if (this.#heldLength > 0 && chunk !== '') this.#parseText(this.#takeHeld());
        this.#parseText(chunk);
      }
      return;
    }
    let bytes: Uint8Array;
    if (typeof chunk === 'string') {
      // A string may end between the halves of a surrogate pair: hold the high half back, so
      // the pair is encoded whole (as the same text fed in one piece would be).
      if (this.#highSurrogate !== '') {
        chunk = this.#highSurrogate + chunk;
        this.#highSurrogate = '';
      }
      const last = chunk.charCodeAt(chunk.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        this.#highSurrogate = chunk.slice(-1);
        chunk = chunk.slice(0, -1);
      }
      bytes = utf8.encode(chunk);
    } else if (this.#highSurrogate !== '') {
      // Bytes cannot finish a pair: the held half is a lone surrogate, in its place in the text.
      bytes = concat(utf8.encode(this.#highSurrogate), chunk);
      this.#highSurrogate = '';
    } else bytes = chunk;
    if (this.#carry) {
      bytes = concat(this.#carry, bytes);
      this.#carry = undefined;
    }
    this.#feedCounted(bytes);
  }

  /**
   * The stream ended: an event without its closing blank line is discarded, as the spec says.
   * Whole events after an oversize one in the last chunk are dispatched first; if one of them is
   * oversize too, the first such error is thrown once all are parsed.
   */
  end(): void {
    let error: unknown;
    while (this.#carry) {
      try {
        this.feed(NO_BYTES);
      } catch (e) {
        error ??= e;
      }
    }
    this.reset();
    if (error !== undefined) throw error;
  }

  /** Drop the partial line and event and the BOM state, keeping `lastEventId` for a reconnect. */
  reset(): void {
    this.#clearEvent();
    // From a handler, inside feed, the rest of the chunk is parsed on: its bytes are counted for
    // maxEventSize already (so the limit cannot be missed), and it is no stream's start.
    if (this.#feeding > 0) return;
    this.#atStart = true;
    this.#lineBytes = 0;
    this.#blockBytes = 0;
    this.#afterCR = false;
    this.#discarding = false;
    this.#carry = undefined;
    this.#highSurrogate = '';
  }

  #clearEvent(): void {
    this.#idBuffer = this.#lastId;
    this.#type = '';
    this.#data = undefined;
    this.#retry = undefined;
    this.#partial = '';
    this.#tail = '';
    this.#heldLength = 0;
    this.#lineAt = 0;
    if (this.#held.length > KEEP_HELD) this.#held = NO_BYTES;
    this.#skipLF = false;
  }

  /**
   * Parse bytes. A short chunk is held as bytes (see parseShort). A longer chunk is decoded in one
   * call up to its last whole character, and its lines are found on the text with native
   * `indexOf` scans, far faster than a loop over the bytes.
   */
  #parseBytes(b: Uint8Array, decoded?: string): void {
    const n = b.length;
    if (n <= SHORT_CHUNK) {
      this.#parseShort(b);
      return;
    }
    let from = 0;
    if (this.#heldLength > 0) {
      // The held bytes may end inside a character: its continuation bytes start this chunk.
      while (from < 3 && isContinuation(b[from]!)) from++;
      this.#hold(b, 0, from);
      this.#parseText(this.#takeHeld());
    }
    const cut = lastCharStart(b, from);
    if (from === 0 && cut === n) {
      const text = decoded ?? decoder.decode(b);
      // One character per byte (see LineEnds): the field names can be read from the bytes.
      this.#parseText(text, text.length === n ? b : undefined);
    } else if (cut > from) this.#parseText(decoder.decode(b.subarray(from, cut)));
    if (cut < n) {
      this.#hold(b, cut, n);
      this.#lineAt = -1; // mid-line: the line began in the text already parsed
    }
  }

  /**
   * A short chunk: its bytes are held, and the held lines are parsed only once one of them has an
   * effect now — a blank line (dispatch), a comment, `retry` or an unknown field. Lines that start
   * with `d`, `i` or `e` only fill the event's buffers, so a small event arriving in pieces is
   * decoded and parsed once, not once per line.
   */
  #parseShort(b: Uint8Array): void {
    if (this.#heldLength === 0) this.#lineAt = this.#partial === '' ? 0 : -1;
    const at = this.#heldLength; // where b starts in the held bytes
    const held = this.#room(at + b.length);
    this.#heldLength = at + b.length;
    let lineAt = this.#lineAt;
    let due = false;
    // One pass copies the bytes and looks at their line ends.
    for (let i = 0, k = at; i < b.length; i++, k++) {
      const c = b[i]!;
      held[k] = c;
      if (c > CR || (c !== LF && c !== CR)) continue;
      const start = lineAt;
      lineAt = k + 1;
      if (c === LF && start === k && k > 0 && held[k - 1] === CR) continue; // the LF of a CRLF
      const first = start < 0 ? 0 : held[start];
      if (start === k || (first !== 100 && first !== 105 && first !== 101)) due = true;
    }
    this.#lineAt = lineAt;
    if (due || lineAt > HOLD_LINES) this.#parseHeldLines();
  }

  /** Parse the held bytes' whole lines, keeping an unfinished line's bytes. */
  #parseHeldLines(): void {
    const held = this.#held;
    const end = this.#lineAt;
    const length = this.#heldLength;
    const text = decoder.decode(held.subarray(0, end));
    // The buffer leaves the parser while its lines are parsed, as the rest of a chunk does: a
    // handler that calls reset(), sets lastEventId or feeds more meets none of its bytes.
    this.#held = NO_BYTES;
    this.#heldLength = 0;
    this.#lineAt = 0;
    this.#parseText(text, text.length === end ? held : undefined);
    if (this.#held === NO_BYTES && held.length <= KEEP_HELD) this.#held = held;
    this.#hold(held, end, length);
  }

  /**
   * Append b[from, to) to the held bytes. A loop: these are a few bytes (a character's start, or
   * the rest of a short chunk), which it copies faster than a call to `set`.
   */
  #hold(b: Uint8Array, from: number, to: number): void {
    const held = this.#room(this.#heldLength + (to - from));
    for (let i = from; i < to; i++) held[this.#heldLength++] = b[i]!;
  }

  /** The held buffer, grown by doubling to take `need` bytes. */
  #room(need: number): Uint8Array {
    if (need > this.#held.length) {
      const grown = new Uint8Array(Math.max(need, 2 * this.#held.length, 256));
      grown.set(this.#held.subarray(0, this.#heldLength));
      this.#held = grown;
    }
    return this.#held;
  }

  /** The held bytes as text, emptying the buffer. */
  #takeHeld(): string {
    // Held bytes are a line's start or whole lines; decoding them alone is exact even if they
    // end inside a character: no later byte could finish it (see parseBytes).
    const text = decoder.decode(this.#held.subarray(0, this.#heldLength));
    this.#heldLength = 0;
    this.#lineAt = 0;
    if (this.#held.length > KEEP_HELD) this.#held = NO_BYTES;
    return text;
  }

  /** Count line and block sizes on the raw bytes; parse what is within the limit. */
  #feedCounted(b: Uint8Array): void {
    const n = b.length;
    const limit = this.#limit;
    let i = 0;
    let from = this.#discarding ? -1 : 0; // where the bytes to parse start
    if (this.#afterCR && n > 0) {
      this.#afterCR = false;
      if (b[0] === LF) i = 1;
    }
    if (from === 0 && this.#blockBytes + (n - i) <= limit) {
      // This chunk cannot take the event past the limit: only the sizes at its end matter, and
      // the last line end, found once, serves both the count and the parse.
      const ends = new LineEnds(b);
      this.#countFromEnd(b, i, ends.lastBefore(i), ends);
      this.#parseBytes(b, ends.text);
      return;
    }
    let lineBytes = this.#lineBytes;
    let blockBytes = this.#blockBytes;
    let lineStart = i;
    // A plain loop over the bytes: lines are short in the common case, where a native indexOf
    // per line costs more than it saves.
    for (; i < n; i++) {
      const c = b[i];
      if (c !== LF && c !== CR) continue;
      lineBytes += i - lineStart;
      blockBytes += i - lineStart;
      if (blockBytes > limit && !this.#discarding) {
        this.#lineBytes = lineBytes;
        this.#blockBytes = blockBytes;
        this.#overflow(b, from, lineStart, i);
      }
      let next = i + 1;
      if (c === CR) {
        if (next < n) {
          if (b[next] === LF) next++;
        } else this.#afterCR = true;
      }
      if (lineBytes === 0) {
        // A blank line ends the block (dispatch, at the text level).
        blockBytes = 0;
        if (this.#discarding) {
          this.#discarding = false;
          this.#skipLF = this.#afterCR;
          from = next;
        }
      }
      lineBytes = 0;
      lineStart = next;
      i = next - 1;
    }
    lineBytes += n - lineStart;
    blockBytes += n - lineStart;
    this.#lineBytes = lineBytes;
    this.#blockBytes = blockBytes;
    if (blockBytes > limit && !this.#discarding) this.#overflow(b, from, lineStart, n);
    if (from >= 0 && from < n) {
      this.#parseBytes(from === 0 ? b : b.subarray(from));
    }
  }

  /**
   * The line and block sizes after the bytes b[i0, n), whose last line end is at `j` (-1: none),
   * found by walking back from there to the last blank line: for small events that is a few
   * dozen bytes, whatever the chunk size.
   */
  #countFromEnd(b: Uint8Array, i0: number, j: number, ends: LineEnds): void {
    const n = b.length;
    if (j < i0) {
      // No line end: the current line goes on.
      this.#lineBytes += n - i0;
      this.#blockBytes += n - i0;
      return;
    }
    this.#afterCR = j === n - 1 && b[j] === CR;
    const tail = n - 1 - j; // the unfinished last line
    let content = tail; // content bytes of the block's lines after the point reached so far
    let end = j; // the last byte of a line end
    for (;;) {
      // A CR followed by LF is one line end.
      const first = b[end] === LF && end - 1 >= i0 && b[end - 1] === CR ? end - 1 : end;
      // The line end before it; a long line (a large event) is searched natively, not byte by byte.
      let k = ends.lastBefore(i0, first);
      if (k < 0) k = i0 - 1;
      const len = first - 1 - k; // content of the line this line end closes
      if (k < i0) {
        // That line began before this chunk.
        if (len === 0 && this.#lineBytes === 0)
          this.#blockBytes = content; // it was blank
        else this.#blockBytes += content + len;
        break;
      }
      if (len === 0) {
        this.#blockBytes = content; // a blank line: the block started after it
        break;
      }
      content += len;
      end = k;
    }
    this.#lineBytes = tail;
  }

  /** The line that starts at `lineStart` takes the event past the limit. */
  #overflow(b: Uint8Array, from: number, lineStart: number, stop: number): never {
    // The lines before it are parsed, as they would have been had they come in a chunk of their
    // own: events that ended before the oversize one go out in order, and a retry or a comment
    // in it is reported however the bytes were cut.
    if (from >= 0 && lineStart > from) this.#parseBytes(b.subarray(from, lineStart));
    this.#clearEvent();
    this.#atStart = false; // the stream has begun, even if all of it so far is discarded
    this.#discarding = true;
    this.#lineBytes = 1; // mid-line: the next blank line ends the oversize event
    if (stop < b.length) this.#carry = b.subarray(stop);
    throw new EventTooLargeError(this.#limit);
  }

  /** Parse text; `bytes`, if given, are its bytes, one per character. */
  #parseText(s: string, bytes?: Uint8Array): void {
    const n = s.length;
    let pos = 0;
    if (n === 0) return;
    if (this.#atStart) {
      this.#atStart = false;
      // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
      if (s.charCodeAt(0) === 0xfeff) pos = 1;
    }
    if (this.#skipLF && pos < n) {
      this.#skipLF = false;
      if (s.charCodeAt(pos) === LF) pos++;
    }
    if (n - pos <= TINY_TEXT && !hasLineEnd(s, pos)) {
      // A few characters that end no line (a long line arriving in tiny pieces): a loop over
      // them costs less than the two native searches below.
      if (pos < n) this.#keep(pos === 0 ? s : s.slice(pos));
      return;
    }
    // Each indexOf result is kept until the scan passes it, so a stream without CR costs one
    // CR search per chunk, and each line one LF search.
    let lf = stringIndexOrEnd(s, '\n', pos);
    let cr = stringIndexOrEnd(s, '\r', pos);
    if (this.#partial !== '' && pos < n) {
      const end = Math.min(lf, cr);
      if (end === n) {
        this.#keep(pos === 0 ? s : s.slice(pos));
        return;
      }
      const line = this.#takeLine(s.slice(pos, end));
      this.#line(line, 0, line.length);
      pos = this.#afterLineEnd(s, end, cr);
      if (lf < pos) lf = stringIndexOrEnd(s, '\n', pos);
      if (cr < pos) cr = stringIndexOrEnd(s, '\r', pos);
    }
    if (cr === n) {
      if (bytes) this.#linesBytes(s, bytes, pos);
      else this.#linesLF(s, pos);
      return;
    }
    while (pos < n) {
      const end = Math.min(lf, cr);
      if (end === n) {
        this.#keep(pos === 0 ? s : s.slice(pos));
        return;
      }
      this.#line(s, pos, end);
      pos = this.#afterLineEnd(s, end, cr);
      if (lf < pos) lf = stringIndexOrEnd(s, '\n', pos);
      if (cr < pos) cr = stringIndexOrEnd(s, '\r', pos);
    }
  }

  /**
   * Keep a (non-empty) piece of a line that goes on in the next chunk. The pieces are joined by
   * `+`, which V8 turns into a rope that reading the line flattens in one copy; cheaper than an
   * array and `join` (1 MB in 16-character pieces: 1.4 ms against 2.7). Below ROPE_NODE
   * characters V8 copies instead, so tiny pieces gather in `tail` before they join the rope.
   */
  #keep(piece: string): void {
    if (this.#partial === '') this.#partial = piece;
    else if ((this.#tail += piece).length >= ROPE_NODE) {
      this.#partial += this.#tail;
      this.#tail = '';
    }
  }

  /** The whole line, ending with `last`. */
  #takeLine(last: string): string {
    const line = (this.#tail === '' ? this.#partial : this.#partial + this.#tail) + last;
    this.#partial = '';
    this.#tail = '';
    return line;
  }

  /**
   * The lines of s from `pos` on, where s has no CR: every line ends in LF. This is the loop
   * nearly every stream runs, so the commonest lines are handled inline rather than by a call to
   * `line`: `id: x` and `event: x` lines, and a data line right before the blank line when it is
   * the block's only data line (`data: x\n\n`), dispatched at once, which saves a search, a call
   * and a concatenation per event.
   */
  #linesLF(s: string, pos: number): void {
    let lf = s.indexOf('\n', pos);
    // Where the next NUL is, found by a native search when an id line first needs it and again
    // only once the scan passes it: for a chunk without NUL, one search instead of a loop per id.
    let nextNul = -1;
    while (lf >= 0) {
      const c = s.charCodeAt(pos);
      if (
        c === 100 && // d
        s.charCodeAt(lf + 1) === LF &&
        this.#data === undefined &&
        s.charCodeAt(pos + 1) === 97 &&
        s.charCodeAt(pos + 2) === 116 &&
        s.charCodeAt(pos + 3) === 97 &&
        isNameEnd(s, pos + 4, lf)
      ) {
        this.#data = value(s, pos + 4, lf);
        this.#dispatch();
        pos = lf + 2;
      } else {
        if (c === 105 && s.charCodeAt(pos + 1) === 100 && isNameEnd(s, pos + 2, lf)) {
          // "If the field value does not contain U+0000 NULL, then set the last event ID buffer
          // to the field value."
          if (nextNul < pos) nextNul = stringIndexOrEnd(s, '\0', pos);
          if (nextNul > lf) this.#idBuffer = value(s, pos + 2, lf);
        } else if (
          c === 101 && // e
          s.charCodeAt(pos + 1) === 118 &&
          s.charCodeAt(pos + 2) === 101 &&
          s.charCodeAt(pos + 3) === 110 &&
          s.charCodeAt(pos + 4) === 116 &&
          isNameEnd(s, pos + 5, lf)
        ) {
          this.#type = value(s, pos + 5, lf); // "Set the event type buffer to the field value."
        } else this.#line(s, pos, lf);
        pos = lf + 1;
      }
      lf = s.indexOf('\n', pos);
    }
    if (pos < s.length) this.#keep(pos === 0 ? s : s.slice(pos));
  }

  /**
   * linesLF for text whose bytes b hold one character each (b may go on past s): the field names
   * are read from the bytes, as a typed-array read costs less than `charCodeAt`.
   */
  #linesBytes(s: string, b: Uint8Array, pos: number): void {
    let lf = s.indexOf('\n', pos);
    let nextNul = -1; // as in linesLF
    while (lf >= 0) {
      const c = b[pos];
      if (
        c === 100 && // d
        lf + 1 < s.length &&
        b[lf + 1] === LF &&
        this.#data === undefined &&
        b[pos + 1] === 97 &&
        b[pos + 2] === 116 &&
        b[pos + 3] === 97 &&
        isNameEndIn(b, pos + 4, lf)
      ) {
        this.#data = value(s, pos + 4, lf);
        this.#dispatch();
        pos = lf + 2;
      } else {
        if (c === 105 && b[pos + 1] === 100 && isNameEndIn(b, pos + 2, lf)) {
          if (nextNul < pos) nextNul = stringIndexOrEnd(s, '\0', pos);
          if (nextNul > lf) this.#idBuffer = value(s, pos + 2, lf);
        } else if (
          c === 101 && // e
          b[pos + 1] === 118 &&
          b[pos + 2] === 101 &&
          b[pos + 3] === 110 &&
          b[pos + 4] === 116 &&
          isNameEndIn(b, pos + 5, lf)
        ) {
          this.#type = value(s, pos + 5, lf);
        } else this.#line(s, pos, lf);
        pos = lf + 1;
      }
      lf = s.indexOf('\n', pos);
    }
    if (pos < s.length) this.#keep(pos === 0 ? s : s.slice(pos));
  }

  /** Where the next line starts, after the line end at `end`. */
  #afterLineEnd(s: string, end: number, cr: number): number {
    // "Lines must be separated by either a CRLF pair, a single LF, or a single CR."
    const next = end + 1;
    if (end !== cr) return next;
    if (next === s.length) {
      this.#skipLF = true; // the LF of a CRLF may start the next chunk
      return next;
    }
    return s.charCodeAt(next) === LF ? next + 1 : next;
  }

  /**
   * One line, s[start, end). The character at `end` is a line end (or past the string), so the
   * name checks below never match across the end of the line.
   */
  #line(s: string, start: number, end: number): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (start === end) {
      this.#dispatch();
      return;
    }
    // "If the line contains a U+003A COLON character: Collect the characters on the line before
    // the first U+003A COLON character, and let field be that string." The four known names
    // are matched by their characters; any other name is ignored.
    switch (s.charCodeAt(start)) {
      case COLON:
        // "If the line starts with a U+003A COLON character: Ignore the line." — a comment.
        if (this.#handlers.onComment) this.#handlers.onComment(value(s, start, end));
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
          this.#data = this.#data === undefined ? v : `${this.#data}\n${v}`;
        }
        return;
      case 105: // i
        if (s.charCodeAt(start + 1) === 100 && isNameEnd(s, start + 2, end)) {
          // "If the field value does not contain U+0000 NULL, then set the last event ID buffer
          // to the field value. Otherwise, ignore the field."
          if (!hasNul(s, start + 2, end)) this.#idBuffer = value(s, start + 2, end);
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
          this.#type = value(s, start + 5, end);
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
          if (/^\d+$/.test(v)) {
            this.#retry = Number(v);
            this.#handlers.onRetry?.(this.#retry);
          }
        }
        return;
    }
    // "Otherwise: The field is ignored."
  }

  #dispatch(): void {
    // "Set the last event ID string of the event source to the value of the last event ID buffer."
    this.#lastId = this.#idBuffer;
    const data = this.#data;
    const type = this.#type;
    const retry = this.#retry;
    this.#data = undefined;
    this.#type = '';
    this.#retry = undefined;
    // "If the data buffer is an empty string, set the data buffer and the event type buffer to
    // the empty string and return."
    if (data === undefined) return;
    const event: SSEEvent = { id: this.#lastId, event: type === '' ? 'message' : type, data };
    if (retry !== undefined) event.retry = retry;
    this.#handlers.onEvent(event);
  }
}

/**
 * Finds line ends backwards in one chunk. A plain loop over the last bytes first: a chunk of small
 * events has one within a few dozen bytes. Past those (a long line, as in a large event), every
 * line end of the chunk is listed once, with a string's forward `indexOf`, a native memchr —
 * unlike `lastIndexOf` and `Uint8Array` searches, which go a byte at a time. The string is the
 * chunk decoded as UTF-8, which the parse then reuses, when it has one character per byte (no
 * character takes fewer units than bytes then, so every position carries over); otherwise a
 * latin1 decoding, which maps each byte to one character.
 */
class LineEnds {
  #ends: number[] | undefined; // every LF and CR of the chunk, in order
  /** The chunk decoded as UTF-8, if the search needed it. */
  text: string | undefined;
  readonly #b: Uint8Array;
  constructor(b: Uint8Array) {
    this.#b = b;
  }

  /** The index of the last LF or CR in b[from, to), or -1. */
  lastBefore(from: number, to = this.#b.length): number {
    const b = this.#b;
    const stop = to - from > TAIL_SCAN ? to - TAIL_SCAN : from;
    for (let i = to - 1; i >= stop; i--) {
      const c = b[i];
      if (c === LF || c === CR) return i;
    }
    if (stop === from) return -1;
    if (this.#ends === undefined) {
      this.text = decoder.decode(b);
      this.#ends = listLineEnds(this.text.length === b.length ? this.text : latin1.decode(b));
    }
    const ends = this.#ends;
    // The last listed end before `stop`, by binary search.
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < stop) lo = mid + 1;
      else hi = mid;
    }
    const k = lo > 0 ? ends[lo - 1]! : -1;
    return k < from ? -1 : k;
  }
}

function listLineEnds(text: string): number[] {
  const ends: number[] = [];
  let lf = text.indexOf('\n');
  let cr = text.indexOf('\r');
  while (lf !== -1 || cr !== -1) {
    if (cr === -1 || (lf !== -1 && lf < cr)) {
      ends.push(lf);
      lf = text.indexOf('\n', lf + 1);
    } else {
      ends.push(cr);
      cr = text.indexOf('\r', cr + 1);
    }
  }
  return ends;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Whether b is a UTF-8 continuation byte (10xxxxxx). */
function isContinuation(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/**
 * Where b[from, n) stops being whole characters: the start of a multi-byte sequence that the
 * next chunk may finish, or n. Decoding up to there is exact: the stream's decoder is back in
 * its first state at any byte that is not a continuation byte (it ends or rejects what came
 * before), and a sequence is at most 4 bytes, so only the last three bytes need a look.
 */
function lastCharStart(b: Uint8Array, from: number): number {
  const n = b.length;
  for (let i = n - 1; i >= from && i >= n - 3; i--) {
    const c = b[i]!;
    if (isContinuation(c)) continue;
    // A lead byte and the length of its sequence: 110xxxxx 2, 1110xxxx 3, 11110xxx 4.
    const size = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return i + size > n ? i : n;
  }
  return n;
}

/** Whether a field name that started earlier ends at `at`: at the colon, or at the line end. */
function isNameEnd(s: string, at: number, end: number): boolean {
  // "Otherwise, the string is not empty but does not contain a U+003A COLON character: Process
  // the field using the whole line as the field name, and the empty string as the field value."
  return at === end || s.charCodeAt(at) === COLON;
}

/** isNameEnd, on bytes. */
function isNameEndIn(b: Uint8Array, at: number, end: number): boolean {
  return at === end || b[at] === COLON;
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

/** Whether s has an LF or CR from `from` on. */
function hasLineEnd(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === LF || c === CR) return true;
  }
  return false;
}

/** Whether s[from, end) has a U+0000: for one id line (see linesLF for a whole chunk's). */
function hasNul(s: string, from: number, end: number): boolean {
  for (let i = from; i < end; i++) if (s.charCodeAt(i) === 0) return true;
  return false;
}
