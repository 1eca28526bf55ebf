/**
 * The web-platform-tests `eventsource/format-*` cases and the HTML standard's own examples, as
 * parser-level tests. Each WPT case is served by a helper script that appends "\n\n\n" to the
 * message (or just "\n" with `newline=none`); the streams below spell that tail out, so the bytes
 * here are exactly the bytes a browser would read. A reconnect in WPT is `end()` on the parser
 * followed by the next response's bytes, with the same parser (the last event id survives).
 *
 * The `format-mime-*` cases are about the response's Content-Type, not the byte stream: they are
 * the client's to prove (a bogus or non-SSE type fails the connection, `text/event-stream;` is
 * accepted). The parser side of them is that it never looks at a charset: see format-utf-8.
 */
import { describe, expect, it } from 'vitest';
import { bytes, ev, expectStream, recorder } from './support.js';

const BOM = [0xef, 0xbb, 0xbf];

describe('WPT eventsource/format-*', () => {
  it('format-bom: one leading BOM is skipped; a BOM later in the stream is part of a field name', () => {
    expectStream(bytes(BOM, 'data:1\n\n', BOM, 'data:2\n\ndata:3', '\n\n\n'), {
      events: [ev('1'), ev('3')],
    });
  });

  it('format-bom-2: of two leading BOMs only the first is skipped, so the first block is unknown', () => {
    expectStream(bytes(BOM, BOM, 'data:1\n\ndata:2\n\ndata:3', '\n\n\n'), {
      events: [ev('2'), ev('3')],
    });
  });

  it('format-comments: comments of any length, ended by CR, LF or CRLF, never touch the data', () => {
    const long = 'x'.repeat(2048);
    const wire = `data:1\r:\0\n:\r\ndata:2\n:${long}\rdata:3\n:data:fail\r:${long}\ndata:4\n\n`;
    expectStream(wire, {
      events: [ev('1\n2\n3\n4')],
      comments: ['\0', '', long, 'data:fail', long],
    });
  });

  it('format-data-before-final-empty-line: an event cut off by the end of the stream is dropped, id included', () => {
    const { parser, out } = recorder();
    const response = 'retry:1000\ndata:test1\n\nid:test\ndata:test2' + '\n';
    parser.feed(response);
    parser.end();
    expect(parser.lastEventId).toBe('');
    parser.feed(response); // the reconnect gets the same response
    parser.end();
    expect(out.events).toEqual([ev('test1', { retry: 1000 }), ev('test1', { retry: 1000 })]);
    expect(out.retries).toEqual([1000, 1000]);
    expect(parser.lastEventId).toBe('');
  });

  it('format-field-data: "data:" gives "", two bare "data" lines give "\\n"', () => {
    expectStream('data:\n\ndata\ndata\n\ndata:test' + '\n\n\n', {
      events: [ev(''), ev('\n'), ev('test')],
    });
  });

  it('format-field-event: a custom type applies to its own block only', () => {
    expectStream('event:test\ndata:x\n\ndata:x' + '\n\n\n', {
      events: [ev('x', { event: 'test' }), ev('x')],
    });
  });

  it('format-field-event-empty: "event: " (empty after the space) means message', () => {
    expectStream('event: \ndata:data' + '\n\n\n', { events: [ev('data')] });
  });

  it('format-field-id: a non-ASCII id is kept and survives a reconnect', () => {
    const { parser, out } = recorder();
    parser.feed(bytes('id: …\nretry: 200\ndata: hello\n\n'));
    parser.end();
    expect(parser.lastEventId).toBe('…');
    // The server echoes the Last-Event-ID it was sent, in an event without an id field.
    parser.feed(bytes(`data: ${parser.lastEventId}\n\n`));
    parser.end();
    expect(out.events).toEqual([ev('hello', { id: '…', retry: 200 }), ev('…', { id: '…' })]);
    expect(out.retries).toEqual([200]);
  });

  it('format-field-id-2: the id persists across two reconnects', () => {
    const { parser, out } = recorder();
    parser.feed(bytes('id: …\nretry: 200\ndata: hello\n\n'));
    for (let i = 0; i < 2; i++) {
      parser.end();
      parser.feed(bytes(`data: ${parser.lastEventId}\n\n`));
    }
    parser.end();
    expect(out.events).toEqual([
      ev('hello', { id: '…', retry: 200 }),
      ev('…', { id: '…' }),
      ev('…', { id: '…' }),
    ]);
  });

  describe('format-field-id-3', () => {
    it('an id persists into later events that carry none', () => {
      expectStream('id: 1\ndata: 1\n\ndata:2\n\n', {
        events: [ev('1', { id: '1' }), ev('2', { id: '1' })],
      });
    });
    it('an id changes and then persists', () => {
      expectStream('id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n', {
        events: [ev('1', { id: '1' }), ev('2', { id: '2' }), ev('3', { id: '2' })],
      });
    });
    it('an empty id resets it, and the reset persists', () => {
      expectStream('id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n', {
        events: [ev('1', { id: '1' }), ev('2'), ev('3')],
      });
    });
  });

  describe('format-field-id-null: an id containing NUL is ignored', () => {
    for (const value of ['\0\0', 'x\0', '\0x', 'x\0x', ' \0']) {
      it(`id ${JSON.stringify(value)}`, () => {
        const { parser, out } = recorder();
        const response = `id: ${value}\nretry: 200\ndata: hello\n\n`;
        parser.feed(bytes(response));
        parser.end();
        expect(parser.lastEventId).toBe('');
        parser.feed(bytes(response)); // no Last-Event-ID was sent, so the same response again
        parser.end();
        expect(out.events).toEqual([ev('hello', { retry: 200 }), ev('hello', { retry: 200 })]);
      });
    }

    it('and leaves an earlier id in place (the field is ignored, not applied as empty)', () => {
      expectStream('id: 7\ndata: a\n\nid: b\0\ndata: b\n\n', {
        events: [ev('a', { id: '7' }), ev('b', { id: '7' })],
      });
    });
  });

  it('format-field-parsing: field names are exact, only "data" with a colon or alone counts', () => {
    const wire =
      'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n' +
      '\n';
    expectStream(wire, { events: [ev('\0\n 2\n1\n3\n\n4')] });
  });

  it('format-field-retry: digits with a leading zero are decimal', () => {
    expectStream('retry:03000\ndata:x' + '\n\n\n', {
      events: [ev('x', { retry: 3000 })],
      retries: [3000],
    });
  });

  it('format-field-retry-bogus: a retry value with a non-digit is ignored, the earlier one stands', () => {
    expectStream('retry:3000\nretry:1000x\ndata:x' + '\n\n\n', {
      events: [ev('x', { retry: 3000 })],
      retries: [3000],
    });
  });

  it('format-field-retry-empty: a bare "retry" line is ignored', () => {
    expectStream('retry\ndata:test' + '\n\n\n', { events: [ev('test')], retries: [] });
  });

  it('format-field-unknown: unknown fields, lines without a colon and comments are skipped', () => {
    const wire =
      'data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test' + '\n\n\n';
    expectStream(wire, { events: [ev('test\n\ntest')], comments: ['thisisacommentyay'] });
  });

  it('format-leading-space: only a space is stripped, a tab stays; CR ends a line', () => {
    expectStream('data:\ttest\rdata: \ndata:test' + '\n\n\n', { events: [ev('\ttest\n\ntest')] });
  });

  it('format-newlines: CRLF, LF and CR mixed, and a CR followed by LF is one line end', () => {
    expectStream('data:test\r\ndata\ndata:test\r\n\r' + '\n', { events: [ev('test\n\ntest')] });
  });

  it('format-null-character: NUL in data is delivered', () => {
    expectStream('data:\0\n\n' + '\n\n\n', { events: [ev('\0')] });
  });

  it('format-utf-8: the stream is always UTF-8, whatever charset the response declared', () => {
    expectStream(bytes('data:ok', [0xe2, 0x80, 0xa6], '\n\n\n'), { events: [ev('ok…')] });
  });
});

describe('HTML standard, "event stream interpretation" examples', () => {
  it('three data lines make one event with newlines between them', () => {
    expectStream('data: YHOO\ndata: +2\ndata: 10\n\n', { events: [ev('YHOO\n+2\n10')] });
  });

  it('comment block, id set, id reset, and a leading space kept after the first', () => {
    const { parser, out } = recorder();
    parser.feed(': test stream\n\ndata: first event\nid: 1\n\n');
    expect(parser.lastEventId).toBe('1');
    parser.feed('data:second event\nid\n\n');
    expect(parser.lastEventId).toBe('');
    parser.feed('data:  third event\n\n');
    parser.end();
    expect(out.events).toEqual([
      ev('first event', { id: '1' }),
      ev('second event'),
      ev(' third event'),
    ]);
    expect(out.comments).toEqual(['test stream']);
  });

  it('the last event still needs its blank line: the end of the stream is not enough', () => {
    expectStream(
      ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n',
      {
        events: [ev('first event', { id: '1' }), ev('second event')],
      },
    );
  });

  it('"data" alone gives "", two give "\\n", and an unterminated block is discarded', () => {
    expectStream('data\n\ndata\ndata\n\ndata:', { events: [ev(''), ev('\n')] });
  });

  it('the space after the colon is optional: both blocks give "test"', () => {
    expectStream('data:test\n\ndata: test\n\n', { events: [ev('test'), ev('test')] });
  });

  it('typed events (the add/remove example)', () => {
    expectStream(
      'event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n',
      {
        events: [
          ev('73857293', { event: 'add' }),
          ev('2153', { event: 'remove' }),
          ev('113411', { event: 'add' }),
        ],
      },
    );
  });
});
