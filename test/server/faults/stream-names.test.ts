import http from 'node:http';
import { SSEServer } from 'ssekit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText, type Listening, listen } from '../loopback.js';

// autoStream is on: the dangerous case, where any name would otherwise become a stream.
describe('stream names that cannot be used', () => {
  let sse: SSEServer;
  let l: Listening;
  const subscribed: string[] = [];
  beforeAll(async () => {
    sse = new SSEServer({
      keepAliveMs: 0,
      autoStream: true,
      onSubscribe: (s) => subscribed.push(s),
    });
    l = await listen(http.createServer(sse.handler));
  });
  afterAll(async () => {
    await sse.close();
    await l.close();
  });

  const cases: [string, string, string, RegExp][] = [
    ['missing', '', 'stream', /Missing the "stream" query parameter/],
    ['empty', '?stream=', '', /Missing the "stream" query parameter/],
    ['huge (257 characters)', `?stream=${'n'.repeat(257)}`, 'n'.repeat(257), /longer than 256/],
    ['huge (6000 characters)', `?stream=${'n'.repeat(6000)}`, 'n'.repeat(6000), /longer than 256/],
    ['with a NUL', '?stream=a%00b', 'a\0b', /control characters/],
    ['with a line feed', '?stream=a%0Ab', 'a\nb', /control characters/],
    ['with CR LF', '?stream=a%0D%0Aevent:x', 'a\r\nevent:x', /control characters/],
    ['with an escape', '?stream=%1B%5B31m', '\x1b[31m', /control characters/],
    ['with DEL', '?stream=a%7F', 'a\x7f', /control characters/],
  ];
  for (const [what, query, name, says] of cases) {
    it(`${what} → 400 with a plain-text reason, and no stream is made`, async () => {
      const r = await fetchText(`${l.origin}/events${query}`);
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.body).toMatch(says);
      expect(r.body.endsWith('\n')).toBe(true);
      expect(r.body.length).toBeLessThan(200);
      if (name !== '') expect(sse.streamExists(name)).toBe(false);
      expect(subscribed).toEqual([]);
    });
  }

  it('publish refuses the same names: rejects with INVALID_STREAM_NAME; tryPublish is false', async () => {
    for (const name of ['', 'n'.repeat(257), 'a\nb', 'a\0b']) {
      await expect(sse.publish(name, 'x')).rejects.toMatchObject({ code: 'INVALID_STREAM_NAME' });
      expect(sse.tryPublish(name, 'x')).toBe(false);
      expect(() => sse.createStream(name)).toThrow(TypeError);
    }
  });

  it('a percent-escape that is not UTF-8 decodes to U+FFFD, an ordinary name', async () => {
    const s = await fetchText(`${l.origin}/events?stream=%FF`, 'HEAD');
    // With autoStream, HEAD answers as GET would, but never creates the stream.
    expect(s.status).toBe(200);
    expect(sse.streamExists('\ufffd')).toBe(false);
  });

  it('the longest allowed name (256 characters, any script) works', async () => {
    const name = `${'é'.repeat(255)}z`;
    expect(name).toHaveLength(256);
    sse.createStream(name);
    const r = await fetchText(`${l.origin}/events?stream=${encodeURIComponent(name)}`, 'HEAD');
    expect(r.status).toBe(200);
  });
});
