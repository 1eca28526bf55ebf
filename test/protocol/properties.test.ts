/**
 * Properties of the parser and the encoder, checked on generated input with fast-check.
 *
 * The chunking properties compare the parser against a deliberately naive reading of the spec
 * (decode everything, split into lines, walk them), so they catch a wrong answer, not only an
 * inconsistent one.
 */
import fc from 'fast-check';
import { EventParser, EventTooLargeError, encodeEvent, type SSEEvent } from 'ssekit/protocol';
import { describe, expect, it } from 'vitest';
import { byteByByte, bytes, type Parsed, parse, recorder, split, wellFormed } from './support.js';

const encoder = new TextEncoder();

/** The spec's algorithm, written for clarity over a whole stream at once. */
function reference(all: Uint8Array): Parsed {
  const out: Parsed = { events: [], comments: [], retries: [] };
  // "UTF-8 decode" strips one leading BOM and turns invalid bytes into U+FFFD.
  const lines = new TextDecoder().decode(all).split(/\r\n|\r|\n/);
  lines.pop(); // an unterminated last line is never processed
  let lastId = '';
  let idBuffer = '';
  let type = '';
  let data = '';
  let retry: number | undefined;
  for (const line of lines) {
    if (line === '') {
      lastId = idBuffer;
      if (data !== '') {
        const e: SSEEvent = { id: lastId, event: type || 'message', data: data.slice(0, -1) };
        if (retry !== undefined) e.retry = retry;
        out.events.push(e);
      }
      data = '';
      type = '';
      retry = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      out.comments.push(line.slice(line.startsWith(': ') ? 2 : 1));
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') data += `${value}\n`;
    else if (name === 'event') type = value;
    else if (name === 'id' && !value.includes('\0')) idBuffer = value;
    else if (name === 'retry' && /^[0-9]+$/.test(value)) {
      retry = Number(value);
      out.retries.push(retry);
    }
  }
  return out;
}

// Pieces a stream is made of: fields (known, unknown, miscased), comments, blank lines, odd
// values, every line end, BOMs, multi-byte and invalid UTF-8.
const valueText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(' ', ':', '\0', '\uFEFF', 'é', '€', '😀', 'data', '0', '9', '\t'),
    fc
      .string({ unit: 'binary', minLength: 1, maxLength: 1 })
      .filter((c) => c !== '\r' && c !== '\n'),
  ),
  maxLength: 12,
});
const lineEnd = fc.constantFrom('\n', '\r', '\r\n');
const fieldName = fc.constantFrom(
  'data',
  'data',
  'data',
  'id',
  'event',
  'retry',
  'Data',
  'dat',
  'x',
  '',
);
const piece = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fieldName, fc.constantFrom(':', ': ', ''), valueText, lineEnd)
      .map((p) => p.join('')),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('retry:', 'retry: '), fc.nat(99999), lineEnd)
      .map((p) => p.join('')),
  },
  { weight: 3, arbitrary: lineEnd },
  { weight: 1, arbitrary: fc.tuple(fc.constant(':'), valueText, lineEnd).map((p) => p.join('')) },
);
const rawBytes = fc.constantFrom(
  [0xff],
  [0xe2, 0x82], // a truncated three-byte sequence
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xef, 0xbb, 0xbf], // a BOM
  [0xf0, 0x9f, 0x98],
);
const stream = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.oneof({ weight: 8, arbitrary: piece }, { weight: 1, arbitrary: rawBytes }), {
      maxLength: 30,
    }),
  )
  .map(([bom, parts]) => bytes(...(bom ? [[0xef, 0xbb, 0xbf]] : []), ...parts));

// Long lines (large events): chunks with no line end in their last bytes take the parser's other
// way of finding line ends, on the chunk's decoded text when it is all one byte per character.
const longValue = fc.string({
  unit: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom('a', 'b', ' ', ':', '0') },
    { weight: 1, arbitrary: fc.constantFrom('é', '€', '😀', '\0', '\uFEFF') },
  ),
  minLength: 60,
  maxLength: 600,
});
const longPiece = fc.oneof(
  { weight: 3, arbitrary: piece },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('data: ', 'id: ', 'event: ', ':'), longValue, lineEnd)
      .map((p) => p.join('')),
  },
);
const longStream = fc
  .array(fc.oneof({ weight: 12, arbitrary: longPiece }, { weight: 1, arbitrary: rawBytes }), {
    maxLength: 20,
  })
  .map((parts) => bytes(...parts));

describe('chunking', () => {
  it('long lines split anywhere yield the spec’s events, with and without maxEventSize', () => {
    fc.assert(
      fc.property(longStream, fc.array(fc.nat(3000), { maxLength: 8 }), (all, cuts) => {
        const want = reference(all);
        expect(parse(split(all, cuts))).toEqual(want);
        expect(parse(split(all, cuts), { maxEventSize: 1 << 20 })).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('any split of the same bytes yields the spec’s events, with and without maxEventSize', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(400), { maxLength: 12 }), (all, cuts) => {
        const want = reference(all);
        expect(parse([all])).toEqual(want);
        expect(parse(split(all, cuts))).toEqual(want);
        expect(parse(byteByByte(all))).toEqual(want);
        expect(parse(split(all, cuts), { maxEventSize: 1 << 20 })).toEqual(want);
        expect(parse(byteByByte(all), { maxEventSize: 1 << 20 })).toEqual(want);
      }),
      { numRuns: 400 },
    );
  });

  it('any split of the same text into strings, or strings and bytes, yields the spec’s events', () => {
    // Text in, as a caller that decodes for itself feeds it: cut anywhere, between the halves of
    // a surrogate pair too, and one character at a time (the path for tiny strings).
    const withBom = new TextDecoder('utf-8', { ignoreBOM: true });
    const cutText = (text: string, cuts: number[]) => {
      const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
      const pieces: string[] = [];
      let from = 0;
      for (const p of [...points, text.length]) {
        pieces.push(text.slice(from, p));
        from = p;
      }
      return pieces;
    };
    fc.assert(
      fc.property(
        fc.oneof(stream, longStream),
        fc.array(fc.nat(3000), { maxLength: 12 }),
        (all, cuts) => {
          const want = reference(all);
          const text = withBom.decode(all);
          const pieces = cutText(text, cuts);
          // Every other piece as bytes: a client may switch, at a character boundary.
          const mixed = pieces.map((p, i) =>
            i % 2 === 1 && !/^[\udc00-\udfff]/.test(p) && !/[\ud800-\udbff]$/.test(p)
              ? encoder.encode(p)
              : p,
          );
          for (const opts of [undefined, { maxEventSize: 1 << 20 }]) {
            expect(parse(pieces, opts)).toEqual(want);
            expect(parse([...text], opts)).toEqual(want);
            expect(parse(mixed, opts)).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['short lines', stream, 400, 60],
    ['long lines', longStream, 3000, 2000],
  ] as const)(
    'with maxEventSize, throws exactly when a block’s bytes pass it, after the events before it (%s)',
    (_, streams, maxCut, maxLimit) => {
      fc.assert(
        fc.property(
          streams,
          fc.array(fc.nat(maxCut), { maxLength: 12 }),
          fc.integer({ min: 1, max: maxLimit }),
          (all, cuts, limit) => {
            // The first block whose line bytes (line ends excluded) pass the limit, by raw bytes.
            let blockStart = 0;
            let block = 0;
            let line = 0;
            let over = -1;
            for (let i = 0; i < all.length && over < 0; i++) {
              const c = all[i];
              if (c !== 10 && c !== 13) {
                line++;
                if (++block > limit) over = blockStart;
                continue;
              }
              if (c === 13 && all[i + 1] === 10) i++;
              if (line === 0) {
                block = 0;
                blockStart = i + 1;
              }
              line = 0;
            }
            const { parser, out } = recorder({ maxEventSize: limit });
            let threw: unknown;
            try {
              for (const c of split(all, cuts)) parser.feed(c);
            } catch (err) {
              threw = err;
            }
            if (over < 0) {
              expect(threw).toBeUndefined();
              parser.end();
              expect(out).toEqual(reference(all));
            } else {
              expect(threw).toBeInstanceOf(EventTooLargeError);
              expect(out.events).toEqual(reference(all.subarray(0, over)).events);
            }
          },
        ),
        { numRuns: 400 },
      );
    },
  );

  it('lastEventId set and reset() called between chunks and in onEvent act alike however the chunks are cut further', () => {
    // Short chunks are held as bytes and some lines parsed late; long ones are parsed at once. A
    // stream cut into pieces, with calls between them, must give the same record whether each
    // piece goes in whole, one byte at a time, or cut again at random.
    type Call = 'set' | 'reset' | '';
    const run = (
      pieces: (Uint8Array | string)[][],
      between: Call[],
      inEvent: Call[],
      limit?: number,
    ) => {
      const log: unknown[] = [];
      const parser = new EventParser(
        {
          onEvent(e) {
            log.push(['event', e, parser.lastEventId]);
            const call = inEvent[log.length % inEvent.length];
            if (call === 'set') parser.lastEventId = `in-${log.length}`;
            else if (call === 'reset') parser.reset();
          },
          onComment: (c) => log.push(['comment', c]),
          onRetry: (ms) => log.push(['retry', ms]),
        },
        limit === undefined ? {} : { maxEventSize: limit },
      );
      pieces.forEach((chunks, i) => {
        if (between[i] === 'set') parser.lastEventId = `between-${i}`;
        else if (between[i] === 'reset') parser.reset();
        for (const c of chunks) {
          // After an oversize event the rest of its chunk waits for the next feed: a caller that
          // reads on feeds at once (an empty chunk will do) until nothing throws.
          for (let next = c; ; next = new Uint8Array(0)) {
            try {
              parser.feed(next);
              break;
            } catch (err) {
              log.push(['error', (err as EventTooLargeError).code]);
            }
          }
        }
      });
      log.push(['end', parser.lastEventId]);
      return log;
    };
    const call = fc.constantFrom<Call>('set', 'reset', '', '', '', '');
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const asText = (p: Uint8Array): Uint8Array | string => {
      try {
        return strict.decode(p);
      } catch {
        return p;
      }
    };
    fc.assert(
      fc.property(
        fc.oneof(stream, longStream),
        fc.array(fc.nat(600), { maxLength: 10 }),
        fc.array(call, { minLength: 11, maxLength: 11 }),
        fc.array(call, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(40), { maxLength: 6 }),
        fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
        (all, cuts, between, inEvent, subCuts, limit) => {
          const pieces = split(all, cuts);
          const whole = run(
            pieces.map((p) => [p]),
            between,
            inEvent,
            limit,
          );
          const byByte = pieces.map((p) => byteByByte(p));
          expect(run(byByte, between, inEvent, limit)).toEqual(whole);
          const cutAgain = pieces.map((p) => split(p, subCuts));
          expect(run(cutAgain, between, inEvent, limit)).toEqual(whole);
          // Every other piece byte by byte, the others as text where they are whole characters.
          const mixed = pieces.map((p, i) => (i % 2 === 0 ? byteByByte(p) : [asText(p)]));
          expect(run(mixed, between, inEvent, limit)).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a CR at the end of one chunk and an LF at the start of the next are one line end', () => {
    for (const opts of [{}, { maxEventSize: 100 }]) {
      const out = parse(['data:a\r', '\ndata:b\r', '\n\r', '\n'], opts);
      expect(out.events).toEqual([{ id: '', event: 'message', data: 'a\nb' }]);
      const lone = parse(['data:a\r', 'data:b\r', '\r'], opts); // CR, then no LF: separate lines
      expect(lone.events).toEqual([{ id: '', event: 'message', data: 'a\nb' }]);
    }
  });

  it('multi-byte characters split across chunks decode whole', () => {
    const all = bytes('data: é€😀\n\n');
    for (let a = 0; a < all.length; a++) {
      for (let b = a; b < all.length; b++) {
        const out = parse(split(all, [a, b]));
        expect(out.events).toEqual([{ id: '', event: 'message', data: 'é€😀' }]);
      }
    }
  });

  it('text chunks split inside a surrogate pair give the same events as bytes', () => {
    const text = 'data: 😀😀\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const chunks = [text.slice(0, cut), text.slice(cut)];
      const want = [{ id: '', event: 'message', data: '😀😀' }];
      expect(parse(chunks).events).toEqual(want);
      expect(parse(chunks, { maxEventSize: 1000 }).events).toEqual(want);
    }
  });

  it('a string ending in half a pair, then bytes: the lone half stays where it was', () => {
    // With maxEventSize the half is held for the next string; bytes cannot finish it, so it goes
    // out before them (as U+FFFD, as every lone surrogate does on the way to bytes).
    const chunks = ['data: a\uD83D', encoder.encode('\n\nid'), ': 5\ndata: b\n\n'];
    expect(parse(chunks, { maxEventSize: 1000 }).events).toEqual([
      { id: '', event: 'message', data: 'a\uFFFD' },
      { id: '5', event: 'message', data: 'b' },
    ]);
    expect(parse(chunks).events[1]).toEqual({ id: '5', event: 'message', data: 'b' });
  });
});

// Strings with everything that could break a line-based format.
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '\r',
      '\n',
      '\r\n',
      '\n\n',
      '\0',
      '\uFEFF',
      ':',
      ' ',
      '\uD800',
      '\uDFFF',
      '😀',
      'é',
    ),
    fc.constantFrom('data: x', 'id: 1', 'event: e', 'retry: 5', ': c'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});
const hasLineBreak = (s: string) => s.includes('\r') || s.includes('\n');

/** Feed the encoded event, as UTF-8 bytes the way a network would deliver it. */
function roundTrip(wire: string): Parsed {
  return parse([encoder.encode(wire)]);
}

describe('encodeEvent → EventParser', () => {
  it('gives back exactly the published data, comment, event, id and retry', () => {
    const event = fc.record(
      {
        data: nasty,
        comment: nasty,
        event: nasty.filter((s) => !hasLineBreak(s)),
        id: nasty.filter((s) => !hasLineBreak(s) && !s.includes('\0')),
        retry: fc.nat(),
      },
      { requiredKeys: ['data'] },
    );
    fc.assert(
      fc.property(event, (e) => {
        const out = roundTrip(encodeEvent(e));
        const got: SSEEvent = {
          id: e.id === undefined ? '' : wellFormed(e.id),
          event: e.event === undefined || e.event === '' ? 'message' : wellFormed(e.event),
          // Every line end in data is a line break on the wire, read back as LF.
          data: wellFormed(e.data).replace(/\r\n|\r/g, '\n'),
        };
        if (e.retry !== undefined) got.retry = e.retry;
        expect(out.events).toEqual([got]);
        expect(out.retries).toEqual(e.retry === undefined ? [] : [e.retry]);
        expect(out.comments).toEqual(
          e.comment === undefined ? [] : wellFormed(e.comment).split(/\r\n|\r|\n/),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips large values', () => {
    const big = 'a😀\r\n'.repeat(200_000);
    const out = roundTrip(
      encodeEvent({ data: big, id: 'x'.repeat(100_000), event: 'e'.repeat(100_000) }),
    );
    expect(out.events).toEqual([
      { id: 'x'.repeat(100_000), event: 'e'.repeat(100_000), data: 'a😀\n'.repeat(200_000) },
    ]);
  });

  it('round-trips bytes as data, as UTF-8 text (a leading BOM included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        const out = roundTrip(encodeEvent({ data }));
        const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(data);
        expect(out.events).toEqual([
          { id: '', event: 'message', data: text.replace(/\r\n|\r/g, '\n') },
        ]);
      }),
    );
    const bom = roundTrip(encodeEvent({ data: bytes([0xef, 0xbb, 0xbf], 'x') }));
    expect(bom.events).toEqual([{ id: '', event: 'message', data: '\uFEFFx' }]);
  });

  it('with base64, data is the base64 of the UTF-8 bytes, on one line', () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.uint8Array({ maxLength: 200 })), (data) => {
        const wire = encodeEvent({ data }, { base64: true });
        expect(wire.match(/^data:/gm)).toHaveLength(1);
        const out = roundTrip(wire);
        expect(out.events).toHaveLength(1);
        const raw = typeof data === 'string' ? encoder.encode(data) : data;
        const decoded = Uint8Array.from(atob(out.events[0]!.data), (c) => c.charCodeAt(0));
        expect(decoded).toEqual(raw);
      }),
    );
  });
});

describe('no injection through a publisher’s values', () => {
  // Anything at all, including the wrong types.
  const anyField = fc.oneof(
    { weight: 6, arbitrary: nasty },
    { weight: 1, arbitrary: fc.anything() },
  );
  const anyRetry = fc.oneof(
    fc.nat(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(Number.NaN, -0, 1e21),
    fc.anything(),
  );

  it('encodeEvent throws a TypeError or yields exactly one event with exactly the given values', () => {
    const event = fc.record(
      {
        data: fc.oneof(nasty, fc.anything()),
        comment: anyField,
        event: anyField,
        id: anyField,
        retry: anyRetry,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(event, (e) => {
        let wire: string;
        try {
          wire = encodeEvent(e as Parameters<typeof encodeEvent>[0]);
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
          const field = (err as { field?: string }).field;
          expect(['data', 'comment', 'event', 'id', 'retry']).toContain(field);
          expect((err as Error).message).toContain(`"${field}"`);
          return;
        }
        // Accepted: every value was a string (retry a non-negative integer) with no way out of
        // its own line.
        expect(typeof e.data).toBe('string');
        // Structurally one event: exactly one blank line, and it is the last line.
        const lines = wire.split(/\r\n|\r|\n/);
        expect(lines.slice(-2)).toEqual(['', '']);
        expect(lines.slice(0, -2)).not.toContain('');
        const out = roundTrip(wire);
        expect(out.events).toHaveLength(1);
        const got = out.events[0]!;
        expect(got.data).toBe(wellFormed(e.data as string).replace(/\r\n|\r/g, '\n'));
        expect(got.id).toBe(e.id === undefined ? '' : wellFormed(e.id as string));
        expect(got.event).toBe(
          e.event === undefined || e.event === '' ? 'message' : wellFormed(e.event as string),
        );
        // -0 is a non-negative integer too; it is written, and read back, as 0.
        const retry = e.retry === undefined ? undefined : Math.abs(e.retry as number);
        expect(got.retry).toBe(retry);
        expect(out.retries).toEqual(retry === undefined ? [] : [retry]);
        const commentLines =
          e.comment === undefined ? [] : (e.comment as string).split(/\r\n|\r|\n/);
        expect(out.comments).toHaveLength(commentLines.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses exactly the values it cannot carry', () => {
    const outcome = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (err) {
        return err instanceof TypeError ? (err as { field?: string }).field : 'other';
      }
    };
    fc.assert(
      fc.property(nasty, (s) => {
        const idBad = hasLineBreak(s) || s.includes('\0');
        expect(outcome(() => encodeEvent({ data: '', id: s }))).toBe(idBad ? 'id' : 'ok');
        expect(outcome(() => encodeEvent({ data: '', event: s }))).toBe(
          hasLineBreak(s) ? 'event' : 'ok',
        );
        expect(outcome(() => encodeEvent({ data: s, comment: s }))).toBe('ok');
      }),
    );
  });
});
