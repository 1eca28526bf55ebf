import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventParser, EventTooLargeError } from 'ssekit/protocol';
import { describe, expect, it } from 'vitest';
import { byteByByte, bytes, ev, recorder } from './support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** The JavaScript heap and the memory behind ArrayBuffers (where held bytes live). */
const heapUsed = () => {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

const LIMIT = 64 * 1024;
const MB = 1024 * 1024;

/** Feed until `feed` throws; returns the error and how many bytes went in (at most `max`). */
function feedUntilThrow(feed: (chunk: Uint8Array) => void, chunk: Uint8Array, max: number) {
  let fed = 0;
  while (fed < max) {
    try {
      feed(chunk);
    } catch (err) {
      return { err, fed: fed + chunk.length };
    }
    fed += chunk.length;
  }
  return { err: undefined, fed };
}

describe('maxEventSize', () => {
  it('throws a RangeError with a stable code, the limit, and how to raise it', () => {
    const { parser } = recorder({ maxEventSize: LIMIT });
    let caught: unknown;
    try {
      parser.feed(`data: ${'x'.repeat(LIMIT)}\n\n`);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RangeError);
    expect(caught).toBeInstanceOf(EventTooLargeError);
    const err = caught as EventTooLargeError;
    expect(err.code).toBe('EVENT_TOO_LARGE');
    expect(err.limit).toBe(LIMIT);
    expect(err.message).toContain(String(LIMIT));
    expect(err.message).toMatch(/raise the maxEventSize option/i);
  });

  it('throws as soon as an event streamed one byte at a time passes the limit', () => {
    const { parser, out } = recorder({ maxEventSize: LIMIT });
    parser.feed('data: ');
    const { err, fed } = feedUntilThrow((c) => parser.feed(c), bytes('x'), 10 * LIMIT);
    expect(err).toBeInstanceOf(EventTooLargeError);
    // "data: " plus the bytes fed: the first byte past the limit is the one that throws.
    expect(6 + fed).toBe(LIMIT + 1);
    expect(out.events).toEqual([]);
  });

  it('also counts an event made of many short lines (its data buffer grows across lines)', () => {
    const { parser } = recorder({ maxEventSize: LIMIT });
    const line = bytes('data: 0123456789\n'); // 16 bytes counted per line
    const { err, fed } = feedUntilThrow((c) => parser.feed(c), line, 10 * LIMIT);
    expect(err).toBeInstanceOf(EventTooLargeError);
    // 16 bytes count per line (the line end does not): the line that passes the limit throws.
    expect(fed).toBe((Math.floor(LIMIT / 16) + 1) * line.length);
  });

  it('keeps memory bounded while 50 MB of one oversize event streams in', () => {
    const { parser, out } = recorder({ maxEventSize: LIMIT });
    const chunk = bytes('x'.repeat(16 * 1024));
    const before = heapUsed();
    parser.feed('id: big\ndata: ');
    let errors = 0;
    for (let fed = 0; fed < 50 * MB; fed += chunk.length) {
      try {
        parser.feed(chunk); // a caller that ignores the error and keeps reading
      } catch (err) {
        expect(err).toBeInstanceOf(EventTooLargeError);
        errors++;
      }
    }
    const grown = heapUsed() - before;
    expect(errors).toBe(1);
    // Holding the event would take 50 MB; the parser keeps at most about one limit.
    expect(grown).toBeLessThan(8 * MB);
    // The end of the oversize event is skipped; parsing resumes after its blank line.
    parser.feed('\n\ndata: next\n\n');
    expect(out.events).toEqual([ev('next')]);
    expect(parser.lastEventId).toBe('');
  });

  it('keeps memory bounded when the oversize event arrives one byte per chunk', () => {
    const { parser } = recorder({ maxEventSize: LIMIT });
    const one = bytes('y');
    const before = heapUsed();
    parser.feed('data: ');
    let errors = 0;
    for (let i = 0; i < 4 * LIMIT; i++) {
      try {
        parser.feed(one);
      } catch {
        errors++;
      }
    }
    expect(errors).toBe(1);
    expect(heapUsed() - before).toBeLessThan(4 * MB);
  });

  it('keeps memory bounded without a limit while lines that only set the id stream in', () => {
    // Short chunks hold lines until one has an effect; id lines alone must not pile up.
    const { parser, out } = recorder();
    const lines = bytes('id: 0123456789\n'.repeat(64 * 1024)); // 1 MiB
    const before = heapUsed();
    for (let round = 0; round < 16; round++) {
      for (let i = 0; i < lines.length; i += 16) parser.feed(lines.subarray(i, i + 16));
    }
    expect(heapUsed() - before).toBeLessThan(2 * MB);
    parser.feed(bytes('data: x\n\n'));
    expect(out.events).toEqual([ev('x', { id: '0123456789' })]);
  });

  it('dispatches the events that came before the oversize one in the same chunk', () => {
    const { parser, out } = recorder({ maxEventSize: 1000 });
    const chunk = `id: 1\ndata: a\n\nid: 2\ndata: b\n\ndata: ${'z'.repeat(2000)}\n\ndata: after\n\n`;
    expect(() => parser.feed(chunk)).toThrow(EventTooLargeError);
    expect(out.events).toEqual([ev('a', { id: '1' }), ev('b', { id: '2' })]);
    expect(parser.lastEventId).toBe('2');
    // Without a reset, what followed the oversize event in that chunk is still parsed.
    parser.feed('');
    expect(out.events).toEqual([
      ev('a', { id: '1' }),
      ev('b', { id: '2' }),
      ev('after', { id: '2' }),
    ]);
  });

  it('end() dispatches the whole events after an oversize one in the last chunk', () => {
    const big = `data: ${'z'.repeat(2000)}\n\n`;
    const { parser, out } = recorder({ maxEventSize: 1000 });
    expect(() => parser.feed(`data: a\n\n${big}data: b\n\n${big}data: c\n\ndata: cut`)).toThrow(
      EventTooLargeError,
    );
    // The second oversize event is reported once everything after it is parsed too.
    expect(() => parser.end()).toThrow(EventTooLargeError);
    expect(out.events).toEqual([ev('a'), ev('b'), ev('c')]); // `data: cut` never ended
    parser.feed('data: next\n\n');
    parser.end();
    expect(out.events.at(-1)).toEqual(ev('next'));
  });

  it('reports a retry or comment of the oversize event that came before the limit, however cut', () => {
    const wire = bytes(`retry: 5\n: note\ndata: ${'x'.repeat(200)}\n\ndata: after\n\n`);
    for (const chunks of [[wire], byteByByte(wire)]) {
      const { parser, out } = recorder({ maxEventSize: 100 });
      let errors = 0;
      for (const c of chunks) {
        try {
          parser.feed(c);
        } catch {
          errors++;
        }
      }
      parser.feed('');
      expect(errors).toBe(1);
      expect(out).toEqual({ events: [ev('after')], comments: ['note'], retries: [5] });
    }
  });

  it('reset() from a handler does not make the limit miss the rest of the chunk', () => {
    // The rest of the chunk is parsed on, and its bytes were counted before the handler ran.
    for (const chunks of [
      ['data: a\n\nxxxxxxxxx', 'xxxxx\n\n'],
      ['data: a\n\n', 'xxxxxxxxx', 'xxxxx\n\n'],
    ]) {
      const seen: string[] = [];
      const parser = new EventParser(
        {
          onEvent(e) {
            seen.push(e.data);
            parser.reset();
          },
        },
        { maxEventSize: 10 },
      );
      let errors = 0;
      for (const c of chunks) {
        try {
          parser.feed(bytes(c));
        } catch {
          errors++;
        }
      }
      expect([seen, errors]).toEqual([['a'], 1]);
    }
  });

  it('an oversize first event ends the BOM check, as its bytes would have', () => {
    for (const chunks of [
      [`${'x'.repeat(13)}\r\n\r\n\uFEFFdata: a\n\n`],
      [`${'x'.repeat(13)}\r\n\r`, '\n\uFEFFdata: a\n\n'],
    ]) {
      const { parser, out } = recorder({ maxEventSize: 12 });
      for (const c of chunks) {
        try {
          parser.feed(bytes(c));
        } catch {}
      }
      parser.feed('');
      expect(out.events).toEqual([]); // a U+FEFF after the stream's start is part of a line
    }
  });

  it('works after reset(), keeping lastEventId and stripping a new BOM', () => {
    const { parser, out } = recorder({ maxEventSize: 100 });
    parser.feed('id: 42\ndata: ok\n\n');
    expect(() => parser.feed(`data: ${'q'.repeat(200)}`)).toThrow(RangeError);
    parser.reset();
    expect(parser.lastEventId).toBe('42');
    parser.feed(bytes([0xef, 0xbb, 0xbf], 'data: again\n\n'));
    parser.feed(`data: ${'q'.repeat(94)}\n\n`); // exactly 100 bytes: allowed
    expect(out.events).toEqual([
      ev('ok', { id: '42' }),
      ev('again', { id: '42' }),
      ev('q'.repeat(94), { id: '42' }),
    ]);
  });

  it('resumes after the blank line ending the oversize event, however its line ends are split', () => {
    for (const tail of [
      ['\r', '\r\ndata: ok\r\n\r\n'],
      ['\r\n', '\r', '\ndata: ok\r', '\r'],
      ['\n\n', 'data: ok\n\n'],
    ]) {
      const { parser, out } = recorder({ maxEventSize: 10 });
      expect(() => parser.feed('data: 0123456789')).toThrow(EventTooLargeError);
      for (const c of tail) parser.feed(c);
      expect(out.events, JSON.stringify(tail)).toEqual([ev('ok')]);
    }
  });

  it('counts UTF-8 bytes exactly: lines of the event, line ends excluded', () => {
    // "data: " (6) + 4 × "é" (8) = 14 bytes, then a second line of 6.
    const fits = bytes('data: éééé\ndata: \n\n');
    const limit = 14 + 6;
    const { parser, out } = recorder({ maxEventSize: limit });
    for (const c of byteByByte(fits)) parser.feed(c);
    parser.feed('data: éééé\ndata: \n\n'); // the same as text
    expect(out.events).toEqual([ev('éééé\n'), ev('éééé\n')]);
    expect(() => parser.feed('data: ééééé\ndata: \n\n')).toThrow(EventTooLargeError);
    const again = recorder({ maxEventSize: limit });
    expect(() => {
      for (const c of byteByByte(bytes('data: éééé\ndata: x\n\n'))) again.parser.feed(c);
    }).toThrow(EventTooLargeError);
    expect(again.out.events).toEqual([]);
  });

  it('each event gets the whole allowance', () => {
    const { parser, out } = recorder({ maxEventSize: 16 });
    const wire = 'data: 0123456789\n\n'.repeat(100);
    for (const c of byteByByte(bytes(wire))) parser.feed(c);
    expect(out.events).toHaveLength(100);
  });

  it('refuses a limit that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN]) {
      expect(() => recorder({ maxEventSize: bad })).toThrow(RangeError);
    }
  });
});
