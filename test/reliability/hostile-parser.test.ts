/**
 * Random bytes into EventParser: it throws nothing but the documented RangeError
 * (code EVENT_TOO_LARGE, only with maxEventSize), stays usable after reset(), never hands out an
 * event bigger than the limit or a field that could carry a line break, and holds bounded memory.
 */
import fc from 'fast-check';
import { EventParser, type SSEEvent } from 'ssekit/protocol';
import { describe, expect, it } from 'vitest';

const utf8 = new TextEncoder();

// Bytes that look like a stream often enough to reach every branch, and plain noise.
const token = fc.oneof(
  fc.constantFrom('data:', 'data', 'id:', 'id: ', 'event:', 'retry:', ':', ' ', '\n', '\r', '\r\n'),
  fc.constantFrom('\n\n', '\0', '\uFEFF', 'é', '😀', 'x'.repeat(40)),
  fc.string({ maxLength: 12 }),
);
const streamBytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.array(fc.oneof(token, fc.uint8Array({ maxLength: 8 })), { maxLength: 80 }).map((parts) => {
    const chunks = parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }),
);
const cuts = fc.array(fc.nat(), { maxLength: 12 });

function chunked(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Feed every chunk; on the documented overflow, reset and go on, as a client reconnecting does. */
function run(chunks: Uint8Array[], maxEventSize?: number) {
  const events: SSEEvent[] = [];
  const errors: unknown[] = [];
  const parser = new EventParser(
    { onEvent: (e) => events.push(e), onComment: () => {}, onRetry: () => {} },
    maxEventSize === undefined ? {} : { maxEventSize },
  );
  for (const c of chunks) {
    try {
      parser.feed(c);
    } catch (err) {
      errors.push(err);
      parser.reset();
    }
  }
  parser.end();
  return { events, errors, parser };
}

function checkFields(events: SSEEvent[], lastEventId: string) {
  for (const e of events) {
    // A field value ends at the line end: nothing a client reads can hold one.
    expect(e.id).not.toMatch(/[\r\n\0]/);
    expect(e.event).not.toMatch(/[\r\n]/);
    expect(e.event).not.toBe('');
    if (e.retry !== undefined) expect(Number.isInteger(e.retry) && e.retry >= 0).toBe(true);
  }
  expect(lastEventId).not.toMatch(/[\r\n\0]/);
}

describe('EventParser fed random bytes', () => {
  it('without a limit, never throws and never yields a field with a line break', () => {
    fc.assert(
      fc.property(streamBytes, cuts, (bytes, at) => {
        const { events, errors, parser } = run(chunked(bytes, at));
        expect(errors).toEqual([]);
        checkFields(events, parser.lastEventId);
      }),
      { numRuns: 1500 },
    );
  });

  it('with maxEventSize, throws only RangeError EVENT_TOO_LARGE and never yields more than the limit', () => {
    fc.assert(
      fc.property(streamBytes, cuts, fc.integer({ min: 1, max: 64 }), (bytes, at, limit) => {
        const { events, errors, parser } = run(chunked(bytes, at), limit);
        for (const err of errors) {
          expect(err).toBeInstanceOf(RangeError);
          expect((err as { code?: string }).code).toBe('EVENT_TOO_LARGE');
        }
        checkFields(events, parser.lastEventId);
        for (const e of events) {
          // The data lines alone are at least as long as the data they carry.
          expect(utf8.encode(e.data).length).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('gives the same events for any chunking of the same bytes, limit or not', () => {
    fc.assert(
      fc.property(streamBytes, cuts, (bytes, at) => {
        const whole = run([bytes]);
        const pieces = run(chunked(bytes, at));
        expect(pieces.events).toEqual(whole.events);
        // With a limit larger than the input the limit never fires and changes nothing.
        const limited = run(chunked(bytes, at), bytes.length + 1);
        expect(limited.errors).toEqual([]);
        expect(limited.events).toEqual(whole.events);
      }),
      { numRuns: 800 },
    );
  });

  it('holds bounded memory for 64 MiB of random bytes without a line end', () => {
    const limit = 64 * 1024;
    const chunk = new Uint8Array(64 * 1024);
    let seed = 7;
    for (let i = 0; i < chunk.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const b = seed >>> 24;
      chunk[i] = b === 10 || b === 13 ? 32 : b; // random, but never a line end
    }
    let events = 0;
    const parser = new EventParser({ onEvent: () => events++ }, { maxEventSize: limit });
    const before = process.memoryUsage().heapUsed;
    let thrown = 0;
    let peak = 0;
    for (let i = 0; i < 1024; i++) {
      try {
        parser.feed(chunk);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('EVENT_TOO_LARGE');
        thrown++;
      }
      if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
    // One overflow: the rest of the oversize event is skipped, not held.
    expect(thrown).toBe(1);
    expect(events).toBe(0);
    // 64 MiB went in; far less than that may stay (garbage not yet collected included).
    expect(peak).toBeLessThan(24 * 1024 * 1024);
    // The parser recovers at the next blank line.
    parser.feed('\n\ndata: after\n\n');
    expect(events).toBe(1);
  });
});
