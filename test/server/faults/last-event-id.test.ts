import http from 'node:http';
import { SSEServer } from 'ssekit/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Listening, listen, openStream, rawRequest, waitFor } from '../loopback.js';

describe('a Last-Event-ID the stream cannot resume from', () => {
  let sse: SSEServer;
  let l: Listening;
  let history: { id: string; event: string; data: string }[];

  beforeEach(async () => {
    sse = new SSEServer({ keepAliveMs: 0 });
    sse.createStream('s');
    history = [];
    for (const data of ['a', 'b', 'c']) {
      history.push({ id: await sse.publish('s', data), event: 'message', data });
    }
    l = await listen(http.createServer(sse.handler));
  });
  afterEach(async () => {
    await sse.close();
    await l.close();
  });

  /** The reset event the client must get first, naming the id it sent (cut at 1024 chars). */
  const reset = (sent: string) => ({
    id: '',
    event: 'reset',
    data: JSON.stringify({ reason: 'unknown', lastEventId: sent.slice(0, 1024) }),
  });

  const expectResetThenHistory = async (
    log: ReturnType<typeof rawRequest>['log'],
    sent: string,
  ) => {
    expect(await log.take(4)).toEqual([reset(sent), ...history]);
    const id = await sse.publish('s', 'live');
    expect(await log.take(5)).toEqual([
      reset(sent),
      ...history,
      { id, event: 'message', data: 'live' },
    ]);
  };

  for (const [what, id] of [
    ['garbage', '%%% not an id ;; \t <script>'],
    ['a number from the far future', '99999999999999999999999'],
    ['a negative number', '-1'],
    ['huge (9 KB, under node’s 16 KB header limit)', 'x'.repeat(9 * 1024)],
  ] as const) {
    it(`${what} → a reset event, then the whole history, then live events`, async () => {
      const s = await openStream(`${l.origin}/?stream=s`, { 'Last-Event-ID': id });
      expect(s.status).toBe(200);
      try {
        await expectResetThenHistory(s.log, id);
      } finally {
        s.close();
      }
    });
  }

  it('non-UTF-8 bytes → a reset that names them as node read them (latin1), then history', async () => {
    const head = Buffer.concat([
      Buffer.from('GET /?stream=s HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: '),
      Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0x41]),
      Buffer.from('\r\n\r\n'),
    ]);
    const r = rawRequest(l.port, head);
    try {
      await expectResetThenHistory(r.log, '\u00ff\u00fe\u0080\u00c3(A');
      expect(r.status()).toBe(200);
    } finally {
      r.socket.destroy();
    }
  });

  it('line breaks and NUL in the lastEventId query parameter cannot inject a field', async () => {
    const sent = 'x\r\nevent: evil\r\ndata: injected\n\n\0';
    const s = await openStream(`${l.origin}/?stream=s&lastEventId=${encodeURIComponent(sent)}`);
    try {
      await expectResetThenHistory(s.log, sent);
    } finally {
      s.close();
    }
  });

  it('a header over node’s 16 KB limit → 431 from node, and the server serves on', async () => {
    const r = rawRequest(
      l.port,
      `GET /?stream=s HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${'9'.repeat(20 * 1024)}\r\n\r\n`,
    );
    await waitFor(() => r.status() !== 0, 'the status line');
    expect(r.status()).toBe(431);
    r.socket.destroy();
    const s = await openStream(`${l.origin}/?stream=s`, { 'Last-Event-ID': history[0]!.id });
    expect(await s.log.take(2)).toEqual(history.slice(1));
    s.close();
  });
});
