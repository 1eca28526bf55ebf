import { MemoryBroker, SSEServer, type UnsubscribeInfo } from 'ssekit/server';
import { describe, expect, it } from 'vitest';
import { sleep, subscribe } from '../support/http.js';
import { closeAfterTest, startServer } from '../support/server.js';

const data = (events: { data: string }[]) => events.map((e) => e.data);

describe('publish and subscribe', () => {
  it('delivers every event to every subscriber, in order, with increasing ids', async () => {
    const { sse, url } = await startServer();
    sse.createStream('news');
    const a = await subscribe(`${url}?stream=news`);
    const b = await subscribe(`${url}?stream=news`);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await sse.publish('news', `n${i}`));
    const expected = Array.from({ length: 50 }, (_, i) => `n${i}`);
    expect(data(await a.waitFor(50))).toEqual(expected);
    expect(data(await b.waitFor(50))).toEqual(expected);
    expect(a.events.map((e) => e.id)).toEqual(ids);
    const numeric = ids.map(Number);
    expect(numeric).toEqual([...numeric].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(50);
  });

  it('sends the headers the contract names', async () => {
    const { sse, url } = await startServer({ headers: { 'X-Custom': 'yes' } });
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    expect(sub.response.status).toBe(200);
    expect(sub.response.headers.get('content-type')).toBe('text/event-stream');
    expect(sub.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(sub.response.headers.get('x-accel-buffering')).toBe('no');
    expect(sub.response.headers.get('x-custom')).toBe('yes');
    sub.close();
  });

  it('keeps multi-line data, event types, comments and retry as published', async () => {
    const { sse, url } = await startServer();
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    await sse.publish('s', {
      data: 'line 1\r\nline 2\rline 3\nline 4',
      event: 'multi',
      retry: 2500,
    });
    await sse.publish('s', { data: '', comment: 'a note\nover two lines' });
    await sse.publish('s', new TextEncoder().encode('bytes ✓'));
    const events = await sub.waitFor(3);
    expect(events.map(({ event, data, retry }) => ({ event, data, retry }))).toEqual([
      { event: 'multi', data: 'line 1\nline 2\nline 3\nline 4', retry: 2500 },
      { event: 'message', data: '', retry: undefined },
      { event: 'message', data: 'bytes ✓', retry: undefined },
    ]);
    expect(sub.comments).toContain('a note');
    expect(sub.comments).toContain('over two lines');
  });

  it('uses the id a publisher gives, and refuses ids and types that would inject fields', async () => {
    const { sse, url } = await startServer();
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    expect(await sse.publish('s', { data: 'x', id: 'order-17' })).toBe('order-17');
    await expect(sse.publish('s', { data: 'x', id: 'a\ndata: injected' })).rejects.toThrow(
      TypeError,
    );
    await expect(sse.publish('s', { data: 'x', event: 'e\r\nid: 9' })).rejects.toThrow(
      /line break/,
    );
    await expect(sse.publish('s', { data: 'x', id: 'nul\0' })).rejects.toThrow(/NUL/);
    await expect(sse.publish('s', { data: 'x', retry: -1 })).rejects.toThrow(
      /non-negative integer/,
    );
    const brokerId = await sse.publish('s', { data: 'id: 5\nevent: evil\n\ndata: more' });
    const events = await sub.waitFor(2);
    await sleep(20);
    expect(sub.events).toEqual([
      { id: 'order-17', event: 'message', data: 'x' },
      { id: brokerId, event: 'message', data: 'id: 5\nevent: evil\n\ndata: more' },
    ]);
    expect(events).toHaveLength(2);
  });

  it('encodes data as base64 with encodeBase64', async () => {
    const { sse, url } = await startServer({ encodeBase64: true });
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    await sse.publish('s', 'héllo\nworld');
    const [e] = await sub.waitFor(1);
    expect(Buffer.from(e!.data, 'base64').toString('utf8')).toBe('héllo\nworld');
  });

  it('sends retry on connect when retryMs is set', async () => {
    const { sse, url } = await startServer({ retryMs: 1234 });
    sse.createStream('s');
    const res = await fetch(`${url}?stream=s`);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('retry: 1234\n\n');
    await reader.cancel();
  });

  it('sends keep-alive comments from one server timer', async () => {
    const { sse, url } = await startServer({ keepAliveMs: 50 });
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    for (let i = 0; i < 100 && sub.comments.filter((c) => c === '').length < 2; i++)
      await sleep(20);
    expect(sub.comments.filter((c) => c === '').length).toBeGreaterThanOrEqual(2);
    sub.close();
  });
});

describe('streams', () => {
  it('rejects a publish to an unknown stream, naming it; tryPublish says false', async () => {
    const sse = new SSEServer();
    closeAfterTest(() => sse.close());
    await expect(sse.publish('nope', 'x')).rejects.toMatchObject({
      code: 'STREAM_NOT_FOUND',
      message: expect.stringContaining('"nope"'),
    });
    expect(sse.tryPublish('nope', 'x')).toBe(false);
    sse.createStream('yes');
    expect(sse.tryPublish('yes', 'x')).toBe(true);
    expect(sse.streamExists('yes')).toBe(true);
    expect(sse.streamExists('nope')).toBe(false);
  });

  it('creates streams on first subscribe or publish with autoStream', async () => {
    const { sse, url } = await startServer({ autoStream: true });
    const sub = await subscribe(`${url}?stream=fresh`);
    expect(sub.response.status).toBe(200);
    expect(sse.streamExists('fresh')).toBe(true);
    await sse.publish('other', 'x');
    expect(sse.streamExists('other')).toBe(true);
    await sse.publish('fresh', 'hello');
    expect(data(await sub.waitFor(1))).toEqual(['hello']);
  });

  it('ends the subscribers of a removed stream', async () => {
    const reasons: string[] = [];
    const { sse, url } = await startServer({
      onUnsubscribe: (_s, info) => reasons.push(info.reason),
    });
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    await sse.publish('s', 'one');
    await sub.waitFor(1);
    sse.removeStream('s');
    await sub.ended;
    expect(sse.streamExists('s')).toBe(false);
    expect(reasons).toEqual(['stream-removed']);
  });

  it('uses a custom stream parameter', async () => {
    const { sse, url } = await startServer({ streamParam: 'topic' });
    sse.createStream('t');
    expect((await fetch(`${url}?stream=t`)).status).toBe(400);
    const sub = await subscribe(`${url}?topic=t`);
    await sse.publish('t', 'ok');
    expect(data(await sub.waitFor(1))).toEqual(['ok']);
  });
});

describe('HTTP answers', () => {
  it('answers 400, 404, 403, 405 and HEAD with plain-text reasons', async () => {
    const { sse, url } = await startServer({ authorize: (_req, stream) => stream !== 'secret' });
    sse.createStream('s');
    sse.createStream('secret');
    const cases: Array<[string, RequestInit, number, RegExp]> = [
      [url, {}, 400, /stream/],
      [`${url}?stream=`, {}, 400, /stream/],
      [`${url}?stream=${'x'.repeat(300)}`, {}, 400, /longer than 256/],
      [`${url}?stream=a%0Ab`, {}, 400, /control characters/],
      [`${url}?stream=missing`, {}, 404, /"missing" does not exist/],
      [`${url}?stream=secret`, {}, 403, /Not allowed/],
      [`${url}?stream=s`, { method: 'POST', body: 'x' }, 405, /GET/],
      [`${url}?stream=s`, { method: 'DELETE' }, 405, /GET/],
    ];
    for (const [u, init, status, body] of cases) {
      const res = await fetch(u, init);
      expect(res.status, `${init.method ?? 'GET'} ${u}`).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(body);
      if (status === 405) expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    const head = await fetch(`${url}?stream=s`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
    expect(await head.text()).toBe('');
  });

  it('waits for an async authorize and passes the request and stream', async () => {
    const seen: string[] = [];
    const { sse, url } = await startServer({
      authorize: async (req, stream) => {
        await sleep(5);
        seen.push(stream);
        return (req as { headers: Record<string, string> }).headers.authorization === 'Bearer ok';
      },
    });
    sse.createStream('s');
    expect((await fetch(`${url}?stream=s`)).status).toBe(403);
    const sub = await subscribe(`${url}?stream=s`, { Authorization: 'Bearer ok' });
    expect(sub.response.status).toBe(200);
    expect(seen).toEqual(['s', 's']);
    sub.close();
  });

  it('answers CORS preflights and allows Last-Event-ID and Authorization', async () => {
    const { sse, url } = await startServer({
      cors: { origin: ['https://app.example'], credentials: true },
    });
    sse.createStream('s');
    const pre = await fetch(`${url}?stream=s`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Headers': 'last-event-id' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Last-Event-ID/);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const sub = await subscribe(`${url}?stream=s`, { Origin: 'https://app.example' });
    expect(sub.response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    sub.close();
    const other = await subscribe(`${url}?stream=s`, { Origin: 'https://evil.example' });
    expect(other.response.headers.get('access-control-allow-origin')).toBeNull();
    other.close();
  });

  it('tells onSubscribe and onUnsubscribe who came and why they left', async () => {
    const log: Array<[string, string, UnsubscribeInfo | object]> = [];
    const { sse, url } = await startServer({
      onSubscribe: (stream, info) => log.push(['sub', stream, info]),
      onUnsubscribe: (stream, info) => log.push(['unsub', stream, info]),
    });
    sse.createStream('s');
    const id = await sse.publish('s', 'x');
    const sub = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': id });
    sub.close();
    for (let i = 0; i < 100 && log.length < 2; i++) await sleep(10);
    expect(log.map(([kind, stream]) => [kind, stream])).toEqual([
      ['sub', 's'],
      ['unsub', 's'],
    ]);
    const subInfo = log[0]![2] as UnsubscribeInfo;
    const unsubInfo = log[1]![2] as UnsubscribeInfo;
    expect(subInfo.lastEventId).toBe(id);
    expect(subInfo.connectionId).toBeTruthy();
    expect(subInfo.request).toBeDefined();
    expect(unsubInfo.connectionId).toBe(subInfo.connectionId);
    expect(unsubInfo.reason).toBe('client-closed');
  });
});

describe('replay', () => {
  it('replays every later event once, in order, then live events (header or query)', async () => {
    const { sse, url } = await startServer();
    sse.createStream('s');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await sse.publish('s', `e${i}`));
    const viaHeader = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': ids[3]! });
    const viaQuery = await subscribe(`${url}?stream=s&lastEventId=${ids[6]}`);
    // The header wins over the query parameter.
    const both = await subscribe(`${url}?stream=s&lastEventId=${ids[1]}`, {
      'Last-Event-ID': ids[8]!,
    });
    await viaHeader.waitFor(6);
    await sse.publish('s', 'live');
    expect(data(await viaHeader.waitFor(7))).toEqual(['e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'live']);
    expect(data(await viaQuery.waitFor(4))).toEqual(['e7', 'e8', 'e9', 'live']);
    expect(data(await both.waitFor(2))).toEqual(['e9', 'live']);
    expect(viaHeader.events.map((e) => e.id)).toEqual([...ids.slice(4), viaHeader.events[6]!.id]);
  });

  it('sends a reset event, then all history, for an id it cannot resume from', async () => {
    const { sse, url } = await startServer({ history: { maxEvents: 3 } });
    sse.createStream('s');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await sse.publish('s', `e${i}`));
    const evicted = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': ids[0]! });
    const unknown = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': 'never-issued' });
    for (const [sub, reason, sent] of [
      [evicted, 'evicted', ids[0]],
      [unknown, 'unknown', 'never-issued'],
    ] as const) {
      const events = await sub.waitFor(4);
      expect(events[0]).toEqual({
        id: '',
        event: 'reset',
        data: JSON.stringify({ reason, lastEventId: sent }),
      });
      expect(data(events.slice(1))).toEqual(['e3', 'e4', 'e5']);
    }
  });

  it('does not replay events older than eventTTL, and says so', async () => {
    const { sse, url } = await startServer({ eventTTL: 100 });
    sse.createStream('s');
    const first = await sse.publish('s', 'old-1');
    await sse.publish('s', 'old-2');
    await sleep(150);
    await sse.publish('s', 'fresh');
    const sub = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': first });
    const events = await sub.waitFor(2);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['reset', JSON.stringify({ reason: 'expired', lastEventId: first })],
      ['message', 'fresh'],
    ]);
  });

  it('turns off the reset event with resetEvent: null, and replay with autoReplay: false', async () => {
    const quiet = await startServer({ resetEvent: null, history: { maxEvents: 1 } });
    quiet.sse.createStream('s');
    const a = await quiet.sse.publish('s', 'a');
    await quiet.sse.publish('s', 'b');
    const sub = await subscribe(`${quiet.url}?stream=s`, { 'Last-Event-ID': a });
    expect(data(await sub.waitFor(1))).toEqual(['b']);

    const noReplay = await startServer({ autoReplay: false });
    noReplay.sse.createStream('s');
    const x = await noReplay.sse.publish('s', 'x');
    await noReplay.sse.publish('s', 'y');
    const live = await subscribe(`${noReplay.url}?stream=s`, { 'Last-Event-ID': x });
    await noReplay.sse.publish('s', 'z');
    expect(data(await live.waitFor(1))).toEqual(['z']);
    await sleep(50);
    expect(live.events).toHaveLength(1);
  });

  it('hands over from replay to live without losing or doubling an event', async () => {
    // A broker whose history answers slowly, while events keep coming: the race made deliberate.
    class SlowHistory extends MemoryBroker {
      override async history(...args: Parameters<MemoryBroker['history']>) {
        const result = await super.history(...args);
        await sleep(30);
        return result;
      }
    }
    const { sse, url } = await startServer({ broker: new SlowHistory() });
    sse.createStream('s');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await sse.publish('s', String(i)));
    const subs = [];
    let n = 20;
    const publishing = (async () => {
      for (; n < 220; n++) {
        await sse.publish('s', String(n));
        if (n % 10 === 0) await sleep(1);
      }
    })();
    for (let i = 0; i < 10; i++) {
      subs.push({
        from: 2 * i,
        sub: await subscribe(`${url}?stream=s`, { 'Last-Event-ID': ids[2 * i]! }),
      });
      await sleep(3);
    }
    await publishing;
    for (const { from, sub } of subs) {
      const expected = Array.from({ length: 219 - from }, (_, k) => String(from + 1 + k));
      expect(data(await sub.waitFor(expected.length))).toEqual(expected);
    }
    await sleep(30);
    for (const { from, sub } of subs) expect(sub.events).toHaveLength(219 - from);
  });
});

describe('a broker that cannot listen', () => {
  it('answers 503 while listening fails, then serves the stream once the broker is back', async () => {
    class Flaky extends MemoryBroker {
      down = true;
      override listen(...args: Parameters<MemoryBroker['listen']>) {
        if (this.down) return Promise.reject(new Error('broker unreachable'));
        return super.listen(...args);
      }
    }
    const broker = new Flaky();
    const { sse, url } = await startServer({ broker });
    sse.createStream('s');
    const refused = await fetch(`${url}?stream=s`);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toMatch(/broker is unavailable \(broker unreachable\)/);
    broker.down = false;
    const sub = await subscribe(`${url}?stream=s`);
    expect(sub.response.status).toBe(200);
    await sse.publish('s', 'back');
    expect(data(await sub.waitFor(1))).toEqual(['back']);
  });
});

describe('close', () => {
  it('ends every subscriber, stops timers and refuses later publishes', async () => {
    const reasons: string[] = [];
    const { sse, url } = await startServer({
      keepAliveMs: 20,
      onUnsubscribe: (_s, info) => reasons.push(info.reason),
    });
    sse.createStream('a');
    sse.createStream('b');
    const a = await subscribe(`${url}?stream=a`);
    const b = await subscribe(`${url}?stream=b`);
    const closing = sse.close();
    await expect(sse.publish('a', 'late')).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
    expect(sse.tryPublish('a', 'late')).toBe(false);
    await closing;
    await Promise.all([a.ended, b.ended]);
    expect(reasons.sort()).toEqual(['server-closed', 'server-closed']);
    expect((await fetch(`${url}?stream=a`)).status).toBe(503);
  });
});
