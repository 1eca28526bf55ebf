import { EventParser, type ParserOptions, type SSEEvent } from 'ssekit/protocol';
import { expect } from 'vitest';

/** Everything a parser reported, in order. */
export interface Parsed {
  events: SSEEvent[];
  comments: string[];
  retries: number[];
}

/** A parser whose callbacks record into `out`. */
export function recorder(opts?: ParserOptions): { parser: EventParser; out: Parsed } {
  const out: Parsed = { events: [], comments: [], retries: [] };
  const parser = new EventParser(
    {
      onEvent: (e) => out.events.push(e),
      onComment: (c) => out.comments.push(c),
      onRetry: (ms) => out.retries.push(ms),
    },
    opts,
  );
  return { parser, out };
}

/** Feed every chunk in order, then end the stream. */
export function parse(chunks: Iterable<string | Uint8Array>, opts?: ParserOptions): Parsed {
  const { parser, out } = recorder(opts);
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of strings, with raw bytes (arrays) spliced in where given. */
export function bytes(...parts: (string | readonly number[])[]): Uint8Array {
  const pieces = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes cut at the given offsets. */
export function split(all: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), all.length)))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(all.subarray(from, p));
    from = p;
  }
  chunks.push(all.subarray(from));
  return chunks;
}

/** One byte per chunk. */
export function byteByByte(all: Uint8Array): Uint8Array[] {
  return Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1));
}

/** The event a client sees for `data`, with the defaults filled in. */
export function ev(data: string, fields: Partial<SSEEvent> = {}): SSEEvent {
  return { id: '', event: 'message', data, ...fields };
}

/**
 * Assert what a whole stream yields, fed every way a transport might deliver it: in one piece,
 * one byte at a time, as one decoded string, and through the `maxEventSize` accounting path.
 */
export function expectStream(
  wire: Uint8Array | string,
  expected: Partial<Parsed> & { events: SSEEvent[] },
): Parsed {
  const all = typeof wire === 'string' ? bytes(wire) : wire;
  const whole = parse([all]);
  const want = { comments: whole.comments, retries: whole.retries, ...expected };
  expect(whole).toEqual(want);
  expect(parse(byteByByte(all))).toEqual(whole);
  expect(parse([new TextDecoder('utf-8', { ignoreBOM: true }).decode(all)])).toEqual(whole);
  expect(parse(byteByByte(all), { maxEventSize: 1 << 20 })).toEqual(whole);
  return whole;
}

/** What a string becomes after a UTF-8 round trip: lone surrogates turn into U+FFFD. */
export function wellFormed(s: string): string {
  return s.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}
