import { InvalidEventError } from './errors.js';
import type { EncodeOptions, PublishEvent } from './types.js';

const LINE_END = /\r\n|\r|\n/;
const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in a publisher's bytes: it is content there, and only the
// stream's first BOM is special ("One leading U+FEFF BYTE ORDER MARK character must be ignored").
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The wire text of one event, ending in a blank line.
 *
 * Data is split into one `data:` line per line of the value, so a publisher can never start a new
 * field or event through it. `id` and `event` with a line break (or an `id` with NUL) are refused
 * rather than escaped: there is no faithful way to carry them.
 */
export function encodeEvent(event: PublishEvent & object, opts: EncodeOptions = {}): string {
  const fields = event instanceof Uint8Array ? { data: event } : event;
  if (fields === null || typeof fields !== 'object') {
    throw new InvalidEventError(
      '',
      `encodeEvent takes an object such as { data: 'text' }, or a Uint8Array; got ${describe(fields)}`,
    );
  }
  let out = '';
  if (fields.comment !== undefined) out += encodeComment(fields.comment);
  if (fields.id !== undefined) out += encodeIdLine(fields.id);
  if (fields.event !== undefined) {
    checkSingleLine('event', fields.event);
    out += `event: ${fields.event}\n`;
  }
  if (fields.retry !== undefined) {
    const r = fields.retry;
    if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0) {
      throw new InvalidEventError('retry', `must be a non-negative integer, got ${describe(r)}`);
    }
    out += `retry: ${r}\n`;
  }
  return `${out}${encodeData(fields.data, opts.base64 === true)}\n`;
}

/** `data:` lines for a value; always at least one, so the event is dispatched. */
export function encodeData(data: string | Uint8Array, base64 = false): string {
  let text: string;
  if (typeof data === 'string') {
    text = base64 ? bytesToBase64(utf8.encode(data)) : data;
  } else if (data instanceof Uint8Array) {
    text = base64 ? bytesToBase64(data) : utf8Decoder.decode(data);
  } else {
    throw new InvalidEventError('data', `must be a string or Uint8Array, got ${describe(data)}`);
  }
  if (!text.includes('\n') && !text.includes('\r')) return `data: ${text}\n`;
  let out = '';
  for (const line of text.split(LINE_END)) out += `data: ${line}\n`;
  return out;
}

/** One comment line per line of text; a client ignores them (keep-alives, notes). */
export function encodeComment(text: string): string {
  if (typeof text !== 'string') {
    throw new InvalidEventError('comment', `must be a string, got ${describe(text)}`);
  }
  let out = '';
  for (const line of text.split(LINE_END)) out += line === '' ? ':\n' : `: ${line}\n`;
  return out;
}

function checkSingleLine(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidEventError(field, `must be a string, got ${describe(value)}`);
  }
  if (value.includes('\n') || value.includes('\r')) {
    throw new InvalidEventError(
      field,
      `contains a line break (${JSON.stringify(value.slice(0, 40))}); it would inject fields`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
let base64Pairs: string[] | undefined; // the two characters for each 12-bit value

/**
 * Standard base64 with padding. A table loop rather than `btoa`: Node 20's `btoa` is written in
 * JavaScript one character at a time and took ~40 ms for 64 KB.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const pairs = (base64Pairs ??= Array.from(
    { length: 4096 },
    (_, v) => BASE64[v >> 6]! + BASE64[v & 63]!,
  ));
  const n = bytes.length;
  const full = n - (n % 3);
  let out = '';
  for (let i = 0; i < full; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += pairs[v >> 12]! + pairs[v & 4095]!;
  }
  if (n - full === 1) {
    const v = bytes[full]!;
    out += `${BASE64[v >> 2]}${BASE64[(v & 3) << 4]}==`;
  } else if (n - full === 2) {
    const v = (bytes[full]! << 8) | bytes[full + 1]!;
    out += `${BASE64[v >> 10]}${BASE64[(v >> 4) & 63]}${BASE64[(v & 15) << 2]}=`;
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The `id:` line for an id; refuses what could inject a field or be ignored by clients. */
export function encodeIdLine(id: string): string {
  checkSingleLine('id', id);
  // "If the field value does not contain U+0000 NULL, then set the last event ID buffer" —
  // a NUL would make every client silently ignore the id.
  if (id.includes('\0')) throw new InvalidEventError('id', 'contains a NUL character');
  return id === '' ? 'id:\n' : `id: ${id}\n`;
}
