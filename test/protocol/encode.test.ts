import { encodeEvent, InvalidEventError } from 'ssekit/protocol';
import { describe, expect, it } from 'vitest';
import { bytes, ev, parse } from './support.js';

/** The error encodeEvent throws for `event`, or fails the test. */
function refusal(event: unknown): InvalidEventError {
  try {
    encodeEvent(event as Parameters<typeof encodeEvent>[0]);
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toBeInstanceOf(InvalidEventError);
    return err as InvalidEventError;
  }
  throw new Error(`encodeEvent accepted ${JSON.stringify(event)}`);
}

describe('encodeEvent', () => {
  it('writes the fields in order and ends with a blank line', () => {
    expect(
      encodeEvent({ data: 'hello', id: '1', event: 'greet', retry: 3000, comment: 'note' }),
    ).toBe(': note\nid: 1\nevent: greet\nretry: 3000\ndata: hello\n\n');
  });

  it('writes bare data for a Uint8Array', () => {
    expect(encodeEvent(bytes('héllo'))).toBe('data: héllo\n\n');
  });

  it('splits data on CRLF, CR and LF into data lines', () => {
    expect(encodeEvent({ data: 'a\r\nb\rc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(encodeEvent({ data: '\n' })).toBe('data: \ndata: \n\n');
    expect(encodeEvent({ data: '' })).toBe('data: \n\n');
  });

  it('splitData is accepted and changes nothing', () => {
    const event = { data: 'a\nb\r\nc', id: '9' };
    const plain = encodeEvent(event);
    expect(encodeEvent(event, { splitData: true })).toBe(plain);
    expect(encodeEvent(event, { splitData: false })).toBe(plain);
  });

  it("id: '' writes an id line that resets the client's last event id; no id writes none", () => {
    expect(encodeEvent({ data: 'x', id: '' })).toBe('id:\ndata: x\n\n');
    expect(encodeEvent({ data: 'x' })).toBe('data: x\n\n');
    const out = parse([
      `${encodeEvent({ data: 'a', id: '5' })}${encodeEvent({ data: 'b', id: '' })}`,
    ]);
    expect(out.events).toEqual([ev('a', { id: '5' }), ev('b')]);
  });

  it('writes one comment line per line of a comment', () => {
    expect(encodeEvent({ data: 'x', comment: 'one\r\ntwo\n\nthree' })).toBe(
      ': one\n: two\n:\n: three\ndata: x\n\n',
    );
  });

  it('keeps a leading space of a value (the parser strips only the one it adds)', () => {
    const wire = encodeEvent({ data: ' x', event: ' e', id: ' i', comment: ' c' });
    expect(parse([wire])).toEqual({
      events: [ev(' x', { event: ' e', id: ' i' })],
      comments: [' c'],
      retries: [],
    });
  });

  it('with base64, encodes the UTF-8 bytes of a string and a Uint8Array as it is', () => {
    expect(encodeEvent({ data: 'héllo\n' }, { base64: true })).toBe(
      `data: ${btoa('h\xc3\xa9llo\n')}\n\n`,
    );
    expect(encodeEvent({ data: Uint8Array.from([0, 255, 10, 13]) }, { base64: true })).toBe(
      'data: AP8KDQ==\n\n',
    );
    const big = new Uint8Array(200_000).map((_, i) => i * 7);
    const wire = encodeEvent({ data: big }, { base64: true });
    const back = Uint8Array.from(atob(parse([wire]).events[0]!.data), (c) => c.charCodeAt(0));
    expect(back).toEqual(big);
  });

  describe('refuses what would break the wire format, naming the field', () => {
    it.each([
      ['a CR in id', { data: '', id: 'a\rb' }, 'id', /line break/],
      ['an LF in id', { data: '', id: 'a\nb' }, 'id', /line break/],
      ['a CRLF in id', { data: '', id: '1\r\nevent: evil' }, 'id', /line break/],
      ['NUL in id', { data: '', id: 'a\0' }, 'id', /NUL/],
      ['a CR in event', { data: '', event: 'a\r' }, 'event', /line break/],
      ['an LF in event', { data: '', event: 'x\ndata: injected' }, 'event', /line break/],
      ['a negative retry', { data: '', retry: -1 }, 'retry', /non-negative integer/],
      ['a fractional retry', { data: '', retry: 1.5 }, 'retry', /non-negative integer/],
      ['a NaN retry', { data: '', retry: Number.NaN }, 'retry', /non-negative integer/],
      [
        'an infinite retry',
        { data: '', retry: Number.POSITIVE_INFINITY },
        'retry',
        /non-negative integer/,
      ],
      ['a string retry', { data: '', retry: '100' }, 'retry', /non-negative integer/],
      ['numeric data', { data: 42 }, 'data', /string or Uint8Array/],
      ['object data', { data: { a: 1 } }, 'data', /string or Uint8Array/],
      ['null data', { data: null }, 'data', /string or Uint8Array/],
      ['missing data', {}, 'data', /string or Uint8Array/],
      ['a numeric id', { data: '', id: 7 }, 'id', /must be a string/],
      ['a numeric event', { data: '', event: 7 }, 'event', /must be a string/],
      ['a numeric comment', { data: '', comment: 7 }, 'comment', /must be a string/],
    ])('%s', (_, event, field, problem) => {
      const err = refusal(event);
      expect(err.field).toBe(field);
      expect(err.code).toBe('INVALID_EVENT');
      expect(err.message).toContain(`"${field}"`);
      expect(err.message).toMatch(problem);
    });

    it.each([
      [null, 'null'],
      ['text', 'string'],
    ])('%j instead of an event: the message is about the argument, not a field', (event, got) => {
      const err = refusal(event);
      expect(err.field).toBe('');
      expect(err.message).toBe(
        `Invalid event: encodeEvent takes an object such as { data: 'text' }, or a Uint8Array; got ${got}`,
      );
    });
  });

  it('accepts NUL in data, event and comment: they cannot break a line', () => {
    const wire = encodeEvent({ data: 'a\0b', event: 'e\0', comment: '\0' });
    expect(parse([wire])).toEqual({
      events: [ev('a\0b', { event: 'e\0' })],
      comments: ['\0'],
      retries: [],
    });
  });

  it('accepts retry 0 and large safe integers', () => {
    expect(encodeEvent({ data: '', retry: 0 })).toBe('retry: 0\ndata: \n\n');
    expect(encodeEvent({ data: '', retry: 2 ** 40 })).toBe(`retry: ${2 ** 40}\ndata: \n\n`);
  });
});
