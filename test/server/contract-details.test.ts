/**
 * Details of the server's contract a review found missing: hooks that fail, a welcome event from
 * onSubscribe, reset events with base64, expiry by eventTTL and maxAgeMs alike, a stream removed
 * and made again, the Fetch handler's failures, header merging, HEAD, CORS '*', and option checks.
 */
import { SSEClient } from 'ssekit/client';
import { MemoryBroker, type ServerOptions, SSEServer } from 'ssekit/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleep, subscribe } from '../support/http.js';
import { closeAfterTest, startServer } from '../support/server.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const resetOf = (data: string) => JSON.parse(data) as { reason: string; lastEventId: string };

describe('hooks', () => {
  it('an onSubscribe that throws is reported, and the subscription goes on', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { sse, url } = await startServer({
      onSubscribe: () => {
        throw new Error('hook broke');
      },
    });
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    await sse.publish('s', 'after the hook');
    expect((await sub.waitFor(1)).map((e) => e.data)).toEqual(['after the hook']);
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining('the onSubscribe hook failed'),
      expect.objectContaining({ message: 'hook broke' }),
    );
    sub.close();
  });

  it('an async onUnsubscribe that rejects is reported, not an unhandled rejection', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    let calls = 0;
    const { sse, url } = await startServer({
      onUnsubscribe: async () => {
        calls++;
        throw new Error('async hook broke');
      },
    });
    sse.createStream('s');
    const sub = await subscribe(`${url}?stream=s`);
    sub.close();
    for (let i = 0; i < 100 && errors.mock.calls.length === 0; i++) await sleep(10);
    expect(calls).toBe(1);
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining('the onUnsubscribe hook failed'),
      expect.objectContaining({ message: 'async hook broke' }),
    );
  });

  it('an event published from onSubscribe reaches the new subscriber, with or without replay', async () => {
    let sse!: SSEServer;
    const started = await startServer({
      onSubscribe: (stream, info) => void sse.publish(stream, `welcome ${info.connectionId}`),
    });
    sse = started.sse;
    sse.createStream('s');
    const first = await subscribe(`${started.url}?stream=s`);
    const [welcome] = await first.waitFor(1);
    expect(welcome!.data).toMatch(/^welcome /);
    const again = await subscribe(`${started.url}?stream=s`, { 'Last-Event-ID': welcome!.id });
    const replayed = await again.waitFor(1);
    expect(replayed.map((e) => e.data)).toEqual([expect.stringMatching(/^welcome /)]);
    expect(replayed[0]!.data).not.toBe(welcome!.data);
    first.close();
    again.close();
  });
});

describe('reset events', () => {
  it('are base64 like every other event with encodeBase64, so a decoding client reads them', async () => {
    const { sse, url } = await startServer({ encodeBase64: true, history: { maxEvents: 1 } });
    sse.createStream('s');
    const first = await sse.publish('s', 'one');
    await sse.publish('s', 'two'); // evicts 'one'
    const raw = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': first });
    const [reset, two] = await raw.waitFor(2);
    expect(reset!.event).toBe('reset');
    expect(resetOf(atob(reset!.data))).toEqual({ reason: 'evicted', lastEventId: first });
    expect(atob(two!.data)).toBe('two');
    raw.close();

    const client = new SSEClient(url, { encodingBase64: true, lastEventId: first });
    const ac = new AbortController();
    const got: { event: string; data: string }[] = [];
    const done = client.subscribe(
      's',
      (e) => {
        got.push({ event: e.event, data: e.data });
        if (got.length === 2) ac.abort();
      },
      { signal: ac.signal },
    );
    await done;
    expect(got).toEqual([
      { event: 'reset', data: JSON.stringify({ reason: 'evicted', lastEventId: first }) },
      { event: 'message', data: 'two' },
    ]);
  });

  for (const [name, options] of [
    ['eventTTL', { eventTTL: 150 }],
    ['history.maxAgeMs', { history: { maxAgeMs: 150 } }],
  ] as const) {
    it(`an id expired by ${name}: a reset saying so, then what is still fresh`, async () => {
      const { sse, url } = await startServer(options);
      sse.createStream('s');
      const old = await sse.publish('s', 'old');
      await sleep(250);
      const fresh = await sse.publish('s', 'fresh');
      const behind = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': old });
      const [reset, next] = await behind.waitFor(2);
      expect(reset!.event).toBe('reset');
      expect(resetOf(reset!.data)).toEqual({ reason: 'expired', lastEventId: old });
      expect([next!.data, next!.id]).toEqual(['fresh', fresh]);
      behind.close();
      await sleep(250); // now 'fresh' has expired too, and nothing newer exists
      const late = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': fresh });
      const [only] = await late.waitFor(1);
      expect(resetOf(only!.data)).toEqual({ reason: 'expired', lastEventId: fresh });
      await sleep(50);
      expect(late.events).toHaveLength(1);
      late.close();
    });
  }
});

describe('streams', () => {
  it('a stream removed and made again keeps what is published to it afterwards', async () => {
    const { sse, url } = await startServer();
    sse.createStream('s');
    await sse.publish('s', 'before');
    sse.removeStream('s');
    sse.createStream('s');
    const first = await sse.publish('s', 'after 1');
    await sse.publish('s', 'after 2');
    await sleep(20); // past the old stream's close
    const sub = await subscribe(`${url}?stream=s`, { 'Last-Event-ID': first });
    expect((await sub.waitFor(1)).map((e) => e.data)).toEqual(['after 2']);
    sub.close();
  });
});

describe('the Fetch handler', () => {
  it('answers 500 when authorize throws, as the node handler does', async () => {
    const sse = new SSEServer({
      keepAliveMs: 0,
      authorize: () => {
        throw new Error('auth backend down');
      },
    });
    closeAfterTest(() => sse.close());
    sse.createStream('s');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await sse.fetch(new Request('http://127.0.0.1/events?stream=s'));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Internal error while subscribing.\n');
    // The operator is told why, not just the status.
    expect(errors).toHaveBeenCalledExactlyOnceWith(
      expect.stringContaining('a subscribe request failed and was answered 500'),
      expect.objectContaining({ message: 'auth backend down' }),
    );
  });

  it('the node handler answers 500 and reports why, once per 10 s, when authorize throws', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { sse, url } = await startServer({
      authorize: () => {
        throw new Error('auth backend down');
      },
    });
    sse.createStream('s');
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}?stream=s`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('Internal error while subscribing.\n');
    }
    // One report for the three: a throwing authorize must not flood the log.
    expect(errors).toHaveBeenCalledExactlyOnceWith(
      expect.stringContaining('a subscribe request failed and was answered 500'),
      expect.objectContaining({ message: 'auth backend down' }),
    );
  });

  it('does not subscribe a request that went away while authorize was pending', async () => {
    let subscribed = 0;
    let admit!: (ok: boolean) => void;
    const sse = new SSEServer({
      keepAliveMs: 0,
      authorize: () => new Promise<boolean>((resolve) => (admit = resolve)),
      onSubscribe: () => subscribed++,
    });
    closeAfterTest(() => sse.close());
    sse.createStream('s');
    const ac = new AbortController();
    const answer = sse.fetch(
      new Request('http://127.0.0.1/events?stream=s', { signal: ac.signal }),
    );
    await sleep(10);
    ac.abort();
    admit(true);
    const res = await answer;
    expect(res.body).toBeNull();
    expect(subscribed).toBe(0);
  });
});

describe('headers, HEAD and CORS', () => {
  it('a header option replaces the default of the same name, whatever its case', async () => {
    const { sse, url } = await startServer({ headers: { 'cache-control': 'private, no-cache' } });
    sse.createStream('s');
    const res = await fetch(`${url}?stream=s`, { method: 'HEAD' });
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
  });

  it("cors origin '*' allows any origin, and Vary: Origin is always sent", async () => {
    const { sse, url } = await startServer({ cors: { origin: '*' } });
    sse.createStream('s');
    const res = await fetch(`${url}?stream=s`, {
      method: 'HEAD',
      headers: { Origin: 'http://app.example' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(res.headers.get('vary')).toBe('Origin');
    const none = await fetch(`${url}?stream=s`, { method: 'HEAD' });
    expect(none.headers.get('vary')).toBe('Origin');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('options', () => {
  const MAX_TIMER = 2 ** 31 - 1;
  it.each([
    [{ retryMs: -1 }, `retryMs must be a whole number from 0 to ${MAX_TIMER}, got -1.`],
    [{ retryMs: 1.5 }, `retryMs must be a whole number from 0 to ${MAX_TIMER}, got 1.5.`],
    [{ retryMs: '3000' }, `retryMs must be a whole number from 0 to ${MAX_TIMER}, got "3000".`],
    [{ keepAliveMs: -5 }, `keepAliveMs must be a number from 0 to ${MAX_TIMER}, got -5.`],
    [
      { keepAliveMs: Number.POSITIVE_INFINITY },
      `keepAliveMs must be a number from 0 to ${MAX_TIMER}, got Infinity.`,
    ],
    [{ maxQueuedBytes: 0 }, 'maxQueuedBytes must be a number from 1 to Infinity, got 0.'],
    [
      { history: { maxEvents: 2.5 } },
      'history.maxEvents must be a whole number from 0 to Infinity, got 2.5.',
    ],
    [{ resetEvent: 'a\nb' }, 'resetEvent must not contain CR or LF: it becomes the "event:" line.'],
    [
      { headers: { 'X-Trace': 'a\r\nSet-Cookie: x' } },
      'headers has "X-Trace": "a\\r\\nSet-Cookie: x", which is no valid HTTP header (a name is a token; a value has no CR, LF or NUL).',
    ],
    [
      { headers: { 'Bad Name': 'x' } },
      'headers has "Bad Name": "x", which is no valid HTTP header (a name is a token; a value has no CR, LF or NUL).',
    ],
  ])('%j is refused with an InvalidOptionError that says what is wrong', (options, message) => {
    let err: unknown;
    try {
      new SSEServer(options as ServerOptions);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it('takes Infinity where a bound can be absent', async () => {
    const sse = new SSEServer({
      keepAliveMs: 0,
      history: { maxEvents: Number.POSITIVE_INFINITY, maxAgeMs: Number.POSITIVE_INFINITY },
      eventTTL: Number.POSITIVE_INFINITY,
    });
    await sse.close();
  });
});

describe('MemoryBroker', () => {
  it('reads history without trimming it: a tighter bound on one read does not lose events', async () => {
    const broker = new MemoryBroker();
    const kept = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await broker.publish('s', { body: `data: ${i}\n\n` }, kept));
    const one = await broker.history('s', '', { maxEvents: 1, maxAgeMs: Number.POSITIVE_INFINITY });
    expect(one.events.map((e) => e.id)).toEqual([ids[4]]);
    const fromFirst = await broker.history('s', ids[0]!, {
      maxEvents: 2,
      maxAgeMs: Number.POSITIVE_INFINITY,
    });
    expect(fromFirst).toMatchObject({ resumable: false, reason: 'evicted' });
    const all = await broker.history('s', ids[0]!, kept);
    expect(all.resumable).toBe(true);
    expect(all.events.map((e) => e.id)).toEqual(ids.slice(1));
  });
});

describe('the node handler', () => {
  it('does not subscribe a client that went away while authorize was pending', async () => {
    let subscribed = 0;
    let admit!: (ok: boolean) => void;
    let asked!: () => void;
    const askedP = new Promise<void>((r) => (asked = r));
    const { sse, url } = await startServer({
      authorize: () =>
        new Promise<boolean>((resolve) => {
          admit = resolve;
          asked();
        }),
      onSubscribe: () => subscribed++,
    });
    const stream = sse.createStream('s');
    const ac = new AbortController();
    const request = fetch(`${url}?stream=s`, { signal: ac.signal }).catch(() => undefined);
    await askedP;
    ac.abort();
    await request;
    await sleep(50); // the server sees the socket close
    admit(true);
    await sleep(50);
    expect(subscribed).toBe(0);
    expect(stream.subscriberCount).toBe(0);
  });
});
