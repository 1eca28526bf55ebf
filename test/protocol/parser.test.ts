import { EventParser, type SSEEvent } from 'ssekit/protocol';
import { describe, expect, it } from 'vitest';
import { byteByByte, bytes, ev, expectStream, parse, recorder, split } from './support.js';

describe('EventParser', () => {
  it('strips a leading BOM split over three chunks, and only one', () => {
    const all = bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], 'data: a\n\n');
    const out = parse(split(all, [1, 2, 3, 4, 5]));
    // The second BOM starts the field name, so "\uFEFFdata" is an unknown field.
    expect(out.events).toEqual([]);
    expect(parse(split(bytes([0xef, 0xbb, 0xbf], 'data: a\n\n'), [1, 2])).events).toEqual([
      ev('a'),
    ]);
  });

  it('does not strip a BOM that is not at the start', () => {
    expectStream('data: \uFEFFx\n\n', { events: [ev('\uFEFFx')] });
  });

  it('turns invalid UTF-8 into U+FFFD, one per maximal bad sequence', () => {
    expectStream(bytes('data: ', [0xff], 'a', [0xe2, 0x82], '\n\n'), {
      events: [ev('\uFFFDa\uFFFD')],
    });
    expectStream(bytes('data: ', [0xed, 0xa0, 0x80], '\n\n'), {
      events: [ev('\uFFFD\uFFFD\uFFFD')],
    });
  });

  it('accepts text and bytes in the same stream', () => {
    const { parser, out } = recorder();
    parser.feed('data: a');
    parser.feed(bytes('b\n'));
    parser.feed('\n');
    expect(out.events).toEqual([ev('ab')]);
  });

  it('an empty string between the bytes of one character does not cut it', () => {
    for (const opts of [{}, { maxEventSize: 100 }]) {
      const out = parse([bytes('data: ', [0xe2, 0x82]), '', bytes([0xac], '\n\n')], opts);
      expect(out.events).toEqual([ev('€')]);
    }
  });

  it('removes exactly one space after the colon, in values and in comments', () => {
    expectStream('data:  two\n:  comment\n:\n: \n\n', {
      events: [ev(' two')],
      comments: [' comment', '', ''],
    });
  });

  it('reads a field with no colon as a field with an empty value', () => {
    expectStream('event\ndata\n\n', { events: [ev('')] });
  });

  it('splits the name at the first colon only', () => {
    expectStream('data: a:b: c\nevent:x:y\n\n', { events: [ev('a:b: c', { event: 'x:y' })] });
  });

  it('a block with no data lines dispatches nothing but still sets the last event id', () => {
    const { parser, out } = recorder();
    parser.feed('id: 3\nevent: ping\n\n');
    expect(out.events).toEqual([]);
    expect(parser.lastEventId).toBe('3');
    parser.feed('data: x\n\n'); // the type does not carry over, the id does
    expect(out.events).toEqual([ev('x', { id: '3' })]);
  });

  it('a retry in a block without data is reported, but not attached to a later event', () => {
    expectStream('retry: 10\n\ndata: x\n\n', { events: [ev('x')], retries: [10] });
  });

  it('the last valid retry in a block is the one on its event', () => {
    expectStream('retry: 1\nretry: 2\nretry: -3\nretry: 4.5\nretry: 1e3\nretry:  7\ndata: x\n\n', {
      events: [ev('x', { retry: 2 })],
      retries: [1, 2],
    });
  });

  it('only the last id and event of a block count', () => {
    expectStream('id: 1\nid: 2\nevent: a\nevent: b\ndata: x\n\n', {
      events: [ev('x', { id: '2', event: 'b' })],
    });
  });

  it('end() discards an unfinished event and line, and keeps the last event id', () => {
    const { parser, out } = recorder();
    parser.feed('id: 1\ndata: a\n\nid: 2\ndata: b\n\ndata: c\nid: 3\ndata: unfinished');
    parser.end();
    expect(parser.lastEventId).toBe('2');
    parser.feed('\n\n'); // the next connection starts clean: these are just blank lines
    expect(out.events).toEqual([ev('a', { id: '1' }), ev('b', { id: '2' })]);
  });

  it('reset() forgets a partial line, a CR waiting for its LF, and the BOM state', () => {
    const { parser, out } = recorder();
    parser.feed('data: x\r');
    parser.reset();
    parser.feed(bytes([0xef, 0xbb, 0xbf], '\ndata: y\n\n'));
    // The LF is a blank line of the new stream (no event), not the end of "data: x".
    expect(out.events).toEqual([ev('y')]);
  });

  it('lastEventId is settable, to resume a previous stream', () => {
    const { parser, out } = recorder();
    parser.lastEventId = 'resume-7';
    parser.feed('data: a\n\nid\ndata: b\n\n');
    expect(out.events).toEqual([ev('a', { id: 'resume-7' }), ev('b')]);
  });

  // Short chunks are held as bytes, and lines that only fill the event's buffers (data, id,
  // event) are parsed with the event's blank line. None of that may show from outside.
  describe('in short chunks', () => {
    it('reports a retry or a comment as soon as its line ends, mid-event', () => {
      const { parser, out } = recorder();
      for (const c of byteByByte(bytes('id: 1\ndata: a\nretry: 5\n'))) parser.feed(c);
      expect(out.retries).toEqual([5]);
      parser.feed(bytes(': hi\n'));
      expect(out.comments).toEqual(['hi']);
      expect(out.events).toEqual([]);
      parser.feed(bytes('\n'));
      expect(out.events).toEqual([ev('a', { id: '1', retry: 5 })]);
    });

    it('a lastEventId set after an id line of the unfinished event wins over it', () => {
      for (const chunks of [['id: 1\ndata: a\n'], byteByByte(bytes('id: 1\ndata: a\n'))]) {
        const { parser, out } = recorder();
        for (const c of chunks) parser.feed(c);
        parser.lastEventId = 'set';
        parser.feed(bytes('\n'));
        expect(out.events).toEqual([ev('a', { id: 'set' })]);
        expect(parser.lastEventId).toBe('set');
      }
    });

    it('a lastEventId set in onEvent wins over the id lines before it, not after it', () => {
      const seen: SSEEvent[] = [];
      const parser = new EventParser({
        onEvent(e) {
          seen.push(e);
          if (e.data === 'a') parser.lastEventId = 'set';
        },
      });
      // One chunk holds the end of "a" and the id line of the next event.
      for (const c of split(bytes('data: a\n\nid: 2\ndata: b\n\ndata: c\n\n'), [5, 15, 30])) {
        parser.feed(c);
      }
      expect(seen).toEqual([ev('a'), ev('b', { id: '2' }), ev('c', { id: '2' })]);
    });

    it('a handler that feeds more does not disturb the held lines being parsed', () => {
      const seen: SSEEvent[] = [];
      let once = true;
      const parser = new EventParser({
        onEvent(e) {
          seen.push(e);
          if (once) {
            once = false;
            parser.feed(bytes('XXXXXXXXid:')); // an odd thing to do, but it must not corrupt
          }
        },
      });
      parser.feed(bytes('data:a\n\ndata:b\n\n'));
      expect(seen.map((e) => e.data)).toEqual(['a', 'b']);
      expect(parser.lastEventId).toBe('');
    });

    it('reset() drops the held lines of the unfinished event, and end() too', () => {
      const { parser, out } = recorder();
      for (const c of byteByByte(bytes('id: 1\ndata: a\n'))) parser.feed(c);
      parser.reset();
      parser.feed(bytes('\ndata: b\n\n'));
      for (const c of byteByByte(bytes('id: 3\ndata: c\n'))) parser.feed(c);
      parser.end();
      parser.feed(bytes('\n'));
      expect(out.events).toEqual([ev('b')]);
      expect(parser.lastEventId).toBe('');
    });
  });

  it('field names are case-sensitive and exact', () => {
    expectStream('DATA: 1\nData: 2\ndata : 3\n data: 4\nID: 5\nEvent: 6\nRetry: 7\ndata: ok\n\n', {
      events: [ev('ok')],
    });
  });

  it('events come out in order, each a fresh object', () => {
    const seen: SSEEvent[] = [];
    const parser = new EventParser({ onEvent: (e) => seen.push(e) });
    parser.feed('data: 1\n\ndata: 2\n\n');
    seen[0]!.data = 'changed';
    expect(seen.map((e) => e.data)).toEqual(['changed', '2']);
  });

  it('works without onComment and onRetry handlers', () => {
    const seen: SSEEvent[] = [];
    const parser = new EventParser({ onEvent: (e) => seen.push(e) });
    parser.feed(': hi\nretry: 5\ndata: x\n\n');
    expect(seen).toEqual([ev('x', { retry: 5 })]);
  });

  it('handles a large event in large and small chunks alike', () => {
    const data = 'abc😀'.repeat(100_000);
    const all = bytes(`id: big\ndata: ${data}\n\n`);
    const want = [ev(data, { id: 'big' })];
    expect(parse([all]).events).toEqual(want);
    const cuts = Array.from({ length: Math.ceil(all.length / 7) }, (_, i) => i * 7);
    expect(parse(split(all, cuts)).events).toEqual(want);
  });

  it('joins a long line fed as text in pieces of every size, tiny and long mixed', () => {
    const chars = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(33 + (i % 90)));
    const data = chars.join('');
    const text = `data: ${data}\r\nid: 7\n\n`;
    const pieces: string[] = [];
    // Sizes around 13, where V8 stops copying a concatenation and builds a rope node instead.
    for (let i = 0, k = 0; i < text.length; k++) {
      const n = [1, 2, 12, 13, 14, 3, 40, 1, 700][k % 9]!;
      pieces.push(text.slice(i, i + n));
      i += n;
    }
    expect(parse(pieces).events).toEqual([ev(data, { id: '7' })]);
  });
});
