// Bad input and faults: each has a defined outcome, checked on a real loopback server.
import { getEventListeners } from 'node:events';
import { EventSource, SSEClient, type SSEClientError } from 'ssekit/client';
import { afterEach, describe, expect, test } from 'vitest';
import { header, type Loopback, loopback, startStream, until } from './helpers.js';

const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(handler: Parameters<typeof loopback>[0]): Promise<Loopback> {
  const s = await loopback(handler);
  servers.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<SSEClientError> {
  try {
    await p;
  } catch (e) {
    return e as SSEClientError;
  }
  throw new Error('expected the subscription to reject');
}

/** Timers and TCP handles this process holds now. */
function handles(): { timers: number; sockets: number } {
  const info = process.getActiveResourcesInfo();
  return {
    timers: info.filter((r) => r === 'Timeout').length,
    sockets: info.filter((r) => r === 'TCPSocketWrap').length,
  };
}

describe('bad input', () => {
  test('a stream that never sends a line end: EVENT_TOO_LARGE at maxEventSize, socket closed', async () => {
    let written = 0;
    const s = await server((_req, res) => {
      startStream(res);
      const chunk = 'x'.repeat(16 * 1024);
      const timer = setInterval(() => {
        // Bounded: at most 64 MB, far past the limit.
        if (written > 64 * 1024 * 1024 || res.destroyed) return clearInterval(timer);
        res.write(chunk);
        written += chunk.length;
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    const client = new SSEClient(s.origin, { maxEventSize: 256 * 1024 });
    const e = await rejection(client.subscribeRaw(() => {}));
    expect(e.code).toBe('EVENT_TOO_LARGE');
    expect(e.message).toContain('maxEventSize');
    expect(written).toBeLessThan(16 * 1024 * 1024);
    await until(() => s.sockets.size === 0, 'the socket to close');
    expect(s.requests.length).toBe(1); // not retried
  });

  test('events up to maxEventSize pass; the first larger one rejects, after those before it', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end(`data: ${'a'.repeat(900)}\n\ndata: ${'b'.repeat(2000)}\n\ndata: never\n\n`);
    });
    const got: number[] = [];
    const client = new SSEClient(s.origin, { maxEventSize: 1024 });
    const e = await rejection(client.subscribeRaw((ev) => got.push(ev.data.length)));
    expect(got).toEqual([900]);
    expect(e.code).toBe('EVENT_TOO_LARGE');
  });

  test('invalid UTF-8 becomes U+FFFD; a character split across writes survives', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      const euro = Buffer.from('€'); // 3 bytes, written one at a time
      res.write(
        Buffer.concat([Buffer.from('data: bad '), Buffer.from([0xff, 0xfe]), Buffer.from('\n\n')]),
      );
      res.write(Buffer.from('data: split '));
      res.write(euro.subarray(0, 1));
      setTimeout(() => {
        res.write(euro.subarray(1, 2));
        setTimeout(() => res.end(Buffer.concat([euro.subarray(2), Buffer.from('\n\n')])), 10);
      }, 10);
    });
    const got: string[] = [];
    await new SSEClient(s.origin, { reconnect: false }).subscribeRaw((e) => got.push(e.data));
    expect(got).toEqual(['bad \uFFFD\uFFFD', 'split €']);
  });

  test('a retry of garbage is ignored: the event arrives and the base delay is unchanged', async () => {
    let n = 0;
    const times: number[] = [];
    const s = await server((_req, res) => {
      times.push(performance.now());
      startStream(res);
      res.end(`retry: 20\nretry: 1e9\nretry: -5\nretry: 12abc\nretry: ∞\ndata: ${n++}\n\n`);
    });
    const got: (number | undefined)[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin, { reconnect: { initialDelayMs: 60_000, jitter: 0 } });
    await client.subscribeRaw(
      (e) => {
        got.push(e.retry);
        if (got.length === 3) ac.abort();
      },
      { signal: ac.signal },
    );
    // Only "retry: 20" counted: three connects in well under a minute, each event carrying it.
    expect(got).toEqual([20, 20, 20]);
    expect(times[2]! - times[0]!).toBeLessThan(5000);
  });
});

describe('faults', () => {
  test('a server that accepts and closes at once: backoff grows, no hot loop', async () => {
    const s = await server((req) => req.socket.destroy());
    const ac = new AbortController();
    const client = new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 20, multiplier: 2, maxDelayMs: 10_000, jitter: 0.2 },
    });
    const done = client.subscribeRaw(() => {}, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 1000));
    ac.abort();
    await done;
    // Delays ≥ 16, 32, 64, 128, 256, 512 ms: at most 7 connects in a second (a hot loop: thousands).
    expect(s.requests.length).toBeGreaterThanOrEqual(3);
    expect(s.requests.length).toBeLessThanOrEqual(8);
  });

  test('a 200 that ends at once, again and again: backoff grows, no hot loop', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end();
    });
    const ac = new AbortController();
    let disconnects = 0;
    const client = new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 20, multiplier: 2, maxDelayMs: 10_000, jitter: 0.2 },
      onDisconnect: () => disconnects++,
    });
    const done = client.subscribeRaw(() => {}, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 1000));
    ac.abort();
    await done;
    // As for a dropped connection: delays ≥ 16, 32, 64, …; at the base delay each time: ~50.
    expect(s.requests.length).toBeGreaterThanOrEqual(3);
    expect(s.requests.length).toBeLessThanOrEqual(8);
    expect(disconnects).toBe(s.requests.length);
  });

  test('a server that stalls mid-event: complete events arrive, the partial one never; abort ends it at once', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('data: whole\n\ndata: half of an ev');
    });
    const got: string[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin);
    const done = client.subscribeRaw((e) => got.push(e.data), { signal: ac.signal });
    await until(() => got.length === 1, 'the complete event');
    await new Promise((r) => setTimeout(r, 100));
    const t = performance.now();
    ac.abort();
    await done;
    expect(performance.now() - t).toBeLessThan(1000);
    expect(got).toEqual(['whole']);
    await until(() => s.sockets.size === 0, 'the socket to close');
  });

  test('a stall then a drop: the partial event is discarded and the reconnect resumes after the last id', async () => {
    let n = 0;
    const s = await server((req, res) => {
      startStream(res);
      if (n++ === 0) {
        res.write('id: 1\ndata: one\n\nid: 2\ndata: half');
        setTimeout(() => res.socket?.destroy(), 50);
      } else res.end(`data: after ${header(req, 'last-event-id')}\n\n`);
    });
    const got: string[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin, { reconnect: { initialDelayMs: 5 } });
    await client.subscribeRaw(
      (e) => {
        got.push(e.data);
        if (got.length === 2) ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['one', 'after 1']);
  });

  test('a redirect loop is a network error: retried, then MAX_RETRIES', async () => {
    const s = await server((_req, res) => {
      res.writeHead(302, { location: '/again' });
      res.end();
    });
    const client = new SSEClient(s.origin, { reconnect: { initialDelayMs: 5, maxRetries: 1 } });
    const e = await rejection(client.subscribeRaw(() => {}));
    expect(e.code).toBe('MAX_RETRIES');
    expect(e.cause).toBeInstanceOf(TypeError); // fetch's "redirect count exceeded"
    // Two attempts, each following redirects until fetch's limit (20).
    expect(s.requests.length).toBeGreaterThanOrEqual(2 * 20);
    expect(s.requests.length).toBeLessThanOrEqual(2 * 21);
  });

  test('a validator that throws: VALIDATOR_REFUSED with the cause, and the socket is freed', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('data: x\n\n');
    });
    const client = new SSEClient(s.origin, {
      responseValidator: () => {
        throw new RangeError('bad');
      },
    });
    const e = await rejection(client.subscribeRaw(() => {}));
    expect(e.code).toBe('VALIDATOR_REFUSED');
    expect(e.cause).toBeInstanceOf(RangeError);
    await until(() => s.sockets.size === 0, 'the socket to close');
  });

  test('abort during connect: resolves at once, no event, the request is cancelled', async () => {
    const s = await server((_req, res) => {
      // Headers come only after 2 s.
      const t = setTimeout(() => {
        startStream(res);
        res.end('data: late\n\n');
      }, 2000);
      res.on('close', () => clearTimeout(t));
    });
    const ac = new AbortController();
    const got: string[] = [];
    const done = new SSEClient(s.origin).subscribeRaw((e) => got.push(e.data), {
      signal: ac.signal,
    });
    await until(() => s.requests.length === 1, 'the request');
    const t = performance.now();
    ac.abort();
    await done;
    expect(performance.now() - t).toBeLessThan(1000);
    await until(() => s.sockets.size === 0, 'the socket to close');
    expect(got).toEqual([]);
  });

  test('abort during backoff: resolves at once, no further request, no timer left', async () => {
    const s = await server((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const before = handles().timers;
    const ac = new AbortController();
    const done = new SSEClient(s.origin, { reconnect: { initialDelayMs: 60_000 } }).subscribeRaw(
      () => {},
      { signal: ac.signal },
    );
    await until(() => s.requests.length === 1, 'the first request');
    await new Promise((r) => setTimeout(r, 50)); // now waiting a minute
    const t = performance.now();
    ac.abort();
    await done;
    expect(performance.now() - t).toBeLessThan(1000);
    expect(handles().timers).toBeLessThanOrEqual(before);
    expect(s.requests.length).toBe(1);
  });

  test('an already-aborted signal never connects', async () => {
    const s = await server(() => {});
    const ac = new AbortController();
    ac.abort();
    await new SSEClient(s.origin).subscribe('x', () => {}, { signal: ac.signal });
    const it = new SSEClient(s.origin).events('x', { signal: ac.signal });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(s.requests.length).toBe(0);
  });

  test('2000 subscribe/abort cycles leave no timers, sockets or listeners behind', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('retry: 5\ndata: hello\n\n');
    });
    const before = handles();
    const client = new SSEClient(s.origin);
    // A long-lived signal passed to every subscription and never aborted: each must remove its
    // listener when it ends, or they pile up.
    const shared = new AbortController().signal;
    for (let i = 0; i < 2000; i++) {
      const ac = new AbortController();
      let first: () => void = () => {};
      const gotOne = new Promise<void>((r) => {
        first = r;
      });
      const odd = i % 2 === 1; // ended by unsubscribe(), else by its own signal
      const done = client.subscribe('s', () => first(), { signal: odd ? shared : ac.signal });
      // One in five ends after its first event (both ways), the rest while still connecting.
      if (i % 10 === 0 || i % 10 === 5) await gotOne;
      if (odd) client.unsubscribe();
      else ac.abort();
      await done;
    }
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
    // The EventSource too, a few hundred times.
    for (let i = 0; i < 300; i++) {
      const es = new EventSource(s.origin);
      if (i % 4 === 0) await new Promise((r) => es.addEventListener('open', r, { once: true }));
      es.close();
    }
    expect(client.connected).toBe(false);
    await until(() => s.sockets.size === 0, 'every server-side socket to close', 10_000);
    // A spare idle socket or two of fetch's pool may remain; nothing that grows with the cycles.
    await until(() => handles().sockets <= before.sockets + 2, 'client sockets to close', 10_000);
    expect(handles().timers).toBeLessThanOrEqual(before.timers + 2);
  });
});
