/**
 * Stream-format cases after the web-platform-tests `eventsource/format-*` and `event-data`
 * tests: a response body and the full, ordered list of events a client must see before the
 * stream ends. Each runs against EventSource and SSEClient.
 */
export interface Expected {
  data: string;
  type?: string; // default 'message'
  id?: string; // the event's lastEventId; default ''
}

export interface FormatCase {
  name: string;
  /** The body, as text or bytes; an array is sent as separate writes a few ms apart. */
  body: string | Uint8Array | string[];
  contentType?: string;
  expected: Expected[];
}

const long = (c: string) => c.repeat(2048);
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

export const formatCases: FormatCase[] = [
  {
    name: 'a data field with no colon adds an empty line; an empty data field dispatches ""',
    body: 'data:\n\ndata\ndata\n\ndata:test\n\n',
    expected: [{ data: '' }, { data: '\n' }, { data: 'test' }],
  },
  {
    name: 'comments are ignored wherever they appear, whatever their length',
    body: `data:1\r:\0\n:\r\ndata:2\n:${long('x')}\rdata:3\n:data:fail\r:${long('y')}\ndata:4\n\n`,
    expected: [{ data: '1\n2\n3\n4' }],
  },
  {
    name: 'unknown fields and lines without a known name are ignored',
    body: 'data:test\n data\ndata\nfoobar:xxx\njustsometext\n:a comment\ndata:test\n\n',
    expected: [{ data: 'test\n\ntest' }],
  },
  {
    name: 'only one leading space is removed from a value; tabs stay',
    body: 'data:\ttest\rdata: \ndata:test\n\n',
    expected: [{ data: '\ttest\n\ntest' }],
  },
  {
    name: 'CRLF, LF and CR all end lines; a lone CR ends the block',
    body: 'data:test\r\ndata\ndata:test\r\n\r',
    expected: [{ data: 'test\n\ntest' }],
  },
  {
    name: 'field names are case-sensitive and exact; NUL in data is kept',
    body: 'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n',
    expected: [{ data: '\0\n 2\n1\n3\n\n4' }],
  },
  {
    name: 'a NUL character as the whole data',
    body: 'data:\0\n\n',
    expected: [{ data: '\0' }],
  },
  {
    name: 'the event field sets the type; an empty one means "message"',
    body: 'event:ping\ndata:a\n\nevent: \ndata:b\n\nevent:\ndata:c\n\n',
    expected: [{ data: 'a', type: 'ping' }, { data: 'b' }, { data: 'c' }],
  },
  {
    name: 'an event without its final blank line is discarded when the stream ends',
    body: 'retry:1000\ndata:test1\n\nid:test\ndata:test2',
    expected: [{ data: 'test1' }],
  },
  {
    name: 'one leading BOM is skipped',
    body: bytes([0xef, 0xbb, 0xbf], 'data:1\n\ndata:2\n\n'),
    expected: [{ data: '1' }, { data: '2' }],
  },
  {
    name: 'a second BOM is part of the first field name, so that block is ignored',
    body: bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], 'data:1\n\ndata:2\n\ndata:3\n\n'),
    expected: [{ data: '2' }, { data: '3' }],
  },
  {
    name: 'the last event id persists across events',
    body: 'id: 1\ndata: 1\n\ndata:2\n\n',
    expected: [
      { data: '1', id: '1' },
      { data: '2', id: '1' },
    ],
  },
  {
    name: 'the last event id changes, then persists',
    body: 'id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n',
    expected: [
      { data: '1', id: '1' },
      { data: '2', id: '2' },
      { data: '3', id: '2' },
    ],
  },
  {
    name: 'an empty id field resets the last event id',
    body: 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n',
    expected: [{ data: '1', id: '1' }, { data: '2' }, { data: '3' }],
  },
  {
    name: 'an id containing NUL is ignored',
    body: 'id: 7\ndata: a\n\nid: x\0y\ndata: b\n\n',
    expected: [
      { data: 'a', id: '7' },
      { data: 'b', id: '7' },
    ],
  },
  {
    name: 'a non-ASCII id and data',
    body: 'id: …\ndata: …\n\n',
    expected: [{ data: '…', id: '…' }],
  },
  {
    name: 'the stream is always UTF-8, whatever charset the Content-Type names',
    body: bytes('data:ok', [0xe2, 0x80, 0xa6], '\n\n'),
    contentType: 'text/event-stream;charset=windows-1252',
    expected: [{ data: 'ok…' }],
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD',
    body: bytes('data:a', [0xff], 'b', [0xc0, 0x80], 'c', [0xe2, 0x80], '\n\n'),
    expected: [{ data: 'a\uFFFDb\uFFFD\uFFFDc\uFFFD' }],
  },
  {
    name: 'a retry that is not all digits is ignored, and the event still arrives',
    body: 'retry:1000x\nretry: abc\nretry:\nretry\ndata:x\n\n',
    expected: [{ data: 'x' }],
  },
  {
    name: 'a Content-Type with a trailing semicolon is still an event stream',
    body: 'data:x\n\n',
    contentType: 'text/event-stream;',
    expected: [{ data: 'x' }],
  },
  {
    name: 'lines split across writes',
    body: [
      'data:msg',
      '\n',
      'data: msg\n\n',
      ':\n',
      'falsefield:msg\n\n',
      'falsefield:msg\n',
      'Data:data\n\n',
      'data\n\n',
      'data:end\n\n',
    ],
    expected: [{ data: 'msg\nmsg' }, { data: '' }, { data: 'end' }],
  },
  {
    name: 'a CRLF split between two writes is one line end',
    body: ['data:a\r', '\ndata:b\r', '\n\r', '\n'],
    expected: [{ data: 'a\nb' }],
  },
];
