import type { ServerResponse } from 'node:http';
import { SSEClient, type SSEClientError, type SSEEvent } from 'ssekit/client';
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

/** A server whose n-th connection (0-based) is answered by `reply(n, req, res)`. */
async function scripted(reply: (n: number, res: ServerResponse, lastEventId: string) => void) {
  let n = 0;
  return server((req, res) => reply(n++, res, header(req, 'last-event-id')));
}

const fast = { initialDelayMs: 5, jitter: 0 };
const codeOf = (e: unknown) => (e as SSEClientError).code;

async function rejection(p: Promise<unknown>): Promise<SSEClientError> {
  try {
    await p;
  } catch (e) {
    return e as SSEClientError;
  }
  throw new Error('expected the subscription to reject');
}

describe('SSEClient: subscribing', () => {
  test('subscribe adds ?stream=NAME, calls the handler per event and resolves on abort', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('id: 1\ndata: one\n\nevent: note\ndata: two\n\n');
    });
    const ac = new AbortController();
    const got: SSEEvent[] = [];
    const client = new SSEClient(`${s.origin}/events?x=1`);
    await client.subscribe(
      'news',
      (e) => {
        got.push(e);
        if (got.length === 2) ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual([
      { id: '1', event: 'message', data: 'one' },
      { id: '1', event: 'note', data: 'two' },
    ]);
    expect(s.requests.map((r) => r.url)).toEqual(['/events?x=1&stream=news']);
    expect(header(s.requests[0]!, 'accept')).toBe('text/event-stream');
    expect(client.lastEventId).toBe('1');
    expect(client.connected).toBe(false);
  });

  test('streamParam renames the parameter; subscribeRaw uses the URL as it is', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('data: x\n\n');
    });
    const client = new SSEClient(`${s.origin}/e`, { streamParam: 'channel', reconnect: false });
    await client.subscribe('a', () => {});
    await client.subscribeRaw(() => {});
    expect(s.requests.map((r) => r.url)).toEqual(['/e?channel=a', '/e']);
  });

  test('Last-Event-ID: from the lastEventId option first, then the last id seen, on every reconnect', async () => {
    const s = await scripted((n, res) => {
      startStream(res);
      res.end(n === 2 ? 'data: no id here\n\n' : `id: e${n}\ndata: ${n}\n\n`);
    });
    const ac = new AbortController();
    const got: string[] = [];
    const client = new SSEClient(s.origin, { lastEventId: 'start', reconnect: fast });
    await client.subscribeRaw(
      (e) => {
        got.push(`${e.data}@${e.id}`);
        if (got.length === 4) ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['0@e0', '1@e1', 'no id here@e1', '3@e3']);
    expect(s.requests.map((r) => header(r, 'last-event-id'))).toEqual(['start', 'e0', 'e1', 'e1']);
  });

  test('a new subscription resumes from client.lastEventId; setting it to "" starts fresh', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('id: 9\ndata: x\n\n');
    });
    const client = new SSEClient(s.origin, { reconnect: false });
    await client.subscribeRaw(() => {});
    await client.subscribeRaw(() => {});
    client.lastEventId = '';
    await client.subscribeRaw(() => {});
    expect(s.requests.map((r) => header(r, 'last-event-id'))).toEqual(['', '9', '']);
  });

  test('each stream resumes from its own last event id; client.lastEventId is the newest one', async () => {
    const s = await server((req, res) => {
      const stream = new URL(req.url ?? '/', s.origin).searchParams.get('stream');
      startStream(res);
      res.end(`id: ${stream}${s.requests.length}\ndata: x\n\n`);
    });
    const client = new SSEClient(s.origin, { lastEventId: 'seed', reconnect: false });
    const sent = () => s.requests.map((r) => `${r.url} ${header(r, 'last-event-id')}`);
    await client.subscribe('a', () => {});
    expect(client.lastEventId).toBe('a1');
    await client.subscribe('b', () => {});
    expect(client.lastEventId).toBe('b2');
    await client.subscribe('a', () => {});
    for await (const _ of client.events('b')) {
      // one event, then the stream ends
    }
    expect(client.lastEventId).toBe('b4');
    // The option seeds every stream's first connect; after that each stream has its own id.
    expect(sent()).toEqual([
      '/?stream=a seed',
      '/?stream=b seed',
      '/?stream=a a1',
      '/?stream=b b2',
    ]);
  });

  test('a handler that throws: the next subscription resumes after the event it was given', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n');
    });
    const client = new SSEClient(s.origin, { reconnect: false });
    const seen: string[] = [];
    const err = await rejection(
      client.subscribe('s', (e) => {
        seen.push(e.data);
        if (e.data === 'b') throw new Error('handler broke');
      }),
    );
    expect((err as Error).message).toBe('handler broke');
    expect(seen).toEqual(['a', 'b']);
    expect(client.lastEventId).toBe('2');
    await client.subscribe('s', () => {});
    expect(s.requests.map((r) => header(r, 'last-event-id'))).toEqual(['', '2']);
  });

  test('onConnect fires when the response is accepted, before any event; onDisconnect after', async () => {
    const s = await scripted((n, res) => {
      startStream(res);
      if (n === 0) res.end('data: a\n\n');
      else {
        res.write('data: b\n\n');
        setTimeout(() => res.socket?.destroy(), 10);
      }
    });
    const log: string[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin, {
      reconnect: fast,
      onConnect: () => log.push(`connect ${client.connected}`),
      onDisconnect: (e) => {
        log.push(`disconnect ${e === undefined ? 'clean' : 'error'} ${client.connected}`);
        if (log.length === 6) ac.abort();
      },
    });
    await client.subscribeRaw((e) => log.push(`event ${e.data} ${client.connected}`), {
      signal: ac.signal,
    });
    expect(log).toEqual([
      'connect true',
      'event a true',
      'disconnect clean false',
      'connect true',
      'event b true',
      'disconnect error false',
    ]);
  });

  test('headers: an object, or a sync or async function called before every connect', async () => {
    const s = await server((req, res) => {
      startStream(res);
      res.end(`data: ${header(req, 'authorization')}\n\n`);
    });
    for (const make of [
      (n: number) => () => ({ authorization: `token ${n}` }),
      (n: number) => async () => new Headers({ authorization: `token ${n}` }),
    ]) {
      let calls = 0;
      const got: string[] = [];
      const ac = new AbortController();
      const client = new SSEClient(s.origin, {
        reconnect: fast,
        headers: () => make(++calls)(),
      });
      await client.subscribeRaw(
        (e) => {
          got.push(e.data);
          if (got.length === 3) ac.abort();
        },
        { signal: ac.signal },
      );
      expect(got).toEqual(['token 1', 'token 2', 'token 3']);
    }
    const fixed = new SSEClient(s.origin, {
      reconnect: false,
      headers: { authorization: 'fixed' },
    });
    const got: string[] = [];
    await fixed.subscribeRaw((e) => got.push(e.data));
    expect(got).toEqual(['fixed']);
  });

  test('a headers function that throws ends the subscription with HEADERS_FAILED', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end();
    });
    const client = new SSEClient(s.origin, {
      headers: () => {
        throw new Error('token service down');
      },
    });
    const e = await rejection(client.subscribeRaw(() => {}));
    expect(codeOf(e)).toBe('HEADERS_FAILED');
    expect((e.cause as Error).message).toBe('token service down');
    expect(s.requests.length).toBe(0);
  });

  test('POST with a body: the same method, headers and body on every reconnect', async () => {
    const bodies: string[] = [];
    const s = await server((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        bodies.push(`${req.method} ${header(req, 'content-type')} ${body}`);
        startStream(res);
        res.end(`data: ${bodies.length}\n\n`);
      });
    });
    for (const body of [JSON.stringify({ prompt: 'hi' }), new URLSearchParams({ q: 'hi' })]) {
      bodies.length = 0;
      const ac = new AbortController();
      const client = new SSEClient(s.origin, {
        method: 'POST',
        body,
        headers: typeof body === 'string' ? { 'content-type': 'application/json' } : {},
        reconnect: fast,
      });
      let n = 0;
      await client.subscribeRaw(() => ++n === 2 && ac.abort(), { signal: ac.signal });
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
    }
    expect(bodies[0]).toBe('POST application/x-www-form-urlencoded;charset=UTF-8 q=hi');
  });

  test('a body that cannot be sent twice (a stream), or a body on GET, throws TypeError', () => {
    const stream = new ReadableStream({ start: (c) => c.close() });
    expect(
      () => new SSEClient('http://127.0.0.1:9/', { method: 'POST', body: stream as never }),
    ).toThrow(TypeError);
    // Checked by ssekit, not left to the runtime's Request (Bun lets a GET with a body through).
    for (const method of [undefined, 'GET', 'get', 'HEAD']) {
      expect(() => new SSEClient('http://127.0.0.1:9/', { method, body: '' })).toThrow(
        /request cannot have a body: set the method, e.g. 'POST'/,
      );
    }
    // A method fetch would refuse on every attempt is refused once, up front.
    expect(() => new SSEClient('http://127.0.0.1:9/', { method: 'CONNECT' })).toThrow(/CONNECT/);
  });

  test('encodingBase64 decodes each event’s data as base64 of UTF-8', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end(`data: ${Buffer.from('héllo\nwörld').toString('base64')}\n\n`);
    });
    const got: string[] = [];
    await new SSEClient(s.origin, { reconnect: false, encodingBase64: true }).subscribeRaw((e) =>
      got.push(e.data),
    );
    expect(got).toEqual(['héllo\nwörld']);
  });

  test('encodingBase64 with data that is not base64 rejects with BAD_BASE64', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('data: not base64!\n\n');
    });
    const client = new SSEClient(s.origin, { reconnect: false, encodingBase64: true });
    expect(codeOf(await rejection(client.subscribeRaw(() => {})))).toBe('BAD_BASE64');
  });

  test('the fetch option makes every request', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('data: x\n\n');
    });
    const seen: string[] = [];
    const client = new SSEClient(s.origin, {
      reconnect: false,
      fetch: (input, init) => {
        seen.push(`${init?.method} ${String(input)}`);
        return fetch(input, init);
      },
    });
    await client.subscribe('a', () => {});
    expect(seen).toEqual([`GET ${s.origin}/?stream=a`]);
  });

  test('a handler that throws ends the subscription with its error', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('data: 1\n\ndata: 2\n\n');
    });
    const boom = new Error('handler bug');
    const client = new SSEClient(s.origin);
    const e = await rejection(
      client.subscribeRaw(() => {
        throw boom;
      }),
    );
    expect(e).toBe(boom);
    await until(() => s.sockets.size === 0, 'the socket to close');
  });

  test('an onConnect that throws ends the subscription with its error, not a retry', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('data: x\n\n');
    });
    const boom = new Error('onConnect bug');
    const client = new SSEClient(s.origin, {
      onConnect: () => {
        throw boom;
      },
    });
    expect(await rejection(client.subscribeRaw(() => {}))).toBe(boom);
    expect(s.requests.length).toBe(1);
  });

  test('unsubscribe() ends every subscription of the client', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write('data: x\n\n');
    });
    const client = new SSEClient(s.origin);
    let events = 0;
    const a = client.subscribe('a', () => events++);
    const b = client.subscribe('b', () => events++);
    await until(() => events === 2 && client.connected, 'both subscriptions');
    client.unsubscribe();
    await Promise.all([a, b]);
    expect(client.connected).toBe(false);
    await until(() => s.sockets.size === 0, 'the sockets to close');
  });
});

describe('SSEClient: retry policy', () => {
  for (const status of [400, 401, 403, 404, 405, 410]) {
    test(`HTTP ${status} is not retried: HTTP_STATUS`, async () => {
      const s = await server((_req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end('no');
      });
      const e = await rejection(
        new SSEClient(s.origin, { reconnect: fast }).subscribeRaw(() => {}),
      );
      expect([e.name, codeOf(e), (e as unknown as { status: number }).status]).toEqual([
        'HttpStatusError',
        'HTTP_STATUS',
        status,
      ]);
      expect(e.message).toContain(String(status));
      expect(s.requests.length).toBe(1);
    });
  }

  test('HTTP 204 means stop: NO_CONTENT, not retried', async () => {
    const s = await server((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const e = await rejection(new SSEClient(s.origin, { reconnect: fast }).subscribeRaw(() => {}));
    expect(codeOf(e)).toBe('NO_CONTENT');
    expect(s.requests.length).toBe(1);
  });

  test('a Content-Type other than text/event-stream: BAD_CONTENT_TYPE, not retried', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<p>login</p>');
    });
    const e = await rejection(new SSEClient(s.origin, { reconnect: fast }).subscribeRaw(() => {}));
    expect(codeOf(e)).toBe('BAD_CONTENT_TYPE');
    expect(e.message).toContain('text/html');
    expect(s.requests.length).toBe(1);
  });

  for (const status of [500, 502, 503, 408, 429]) {
    test(`HTTP ${status} is retried until maxRetries: MAX_RETRIES with the last status as cause`, async () => {
      const s = await server((_req, res) => {
        res.writeHead(status);
        res.end();
      });
      const client = new SSEClient(s.origin, { reconnect: { ...fast, maxRetries: 2 } });
      const e = await rejection(client.subscribeRaw(() => {}));
      expect(codeOf(e)).toBe('MAX_RETRIES');
      expect((e.cause as { status: number }).status).toBe(status);
      expect(s.requests.length).toBe(3);
    });
  }

  test('the validator sees each response; if it throws: VALIDATOR_REFUSED, not retried', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-version': '1' });
      res.end('data: x\n\n');
    });
    const seen: string[] = [];
    const client = new SSEClient(s.origin, {
      reconnect: fast,
      responseValidator: (res) => {
        seen.push(res.headers.get('x-version') ?? '');
        throw new Error('need version 2');
      },
    });
    const e = await rejection(client.subscribeRaw(() => {}));
    expect(codeOf(e)).toBe('VALIDATOR_REFUSED');
    expect((e.cause as Error).message).toBe('need version 2');
    expect(seen).toEqual(['1']);
    expect(s.requests.length).toBe(1);
  });

  test('backoff: min(maxDelayMs, base × multiplierⁿ) before each consecutive retry', async () => {
    const times: number[] = [];
    const s = await server((_req, res) => {
      times.push(performance.now());
      res.writeHead(503);
      res.end();
    });
    const client = new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 20, multiplier: 2, maxDelayMs: 100, jitter: 0, maxRetries: 5 },
    });
    expect(codeOf(await rejection(client.subscribeRaw(() => {})))).toBe('MAX_RETRIES');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Timers never fire early: each gap is at least its delay (20, 40, 80, 100, 100).
    for (const [i, d] of [20, 40, 80, 100, 100].entries()) {
      expect(gaps[i]).toBeGreaterThanOrEqual(d - 2);
    }
    expect(gaps.reduce((a, b) => a + b)).toBeLessThan(5000);
  });

  test('a 200 that ends before any event is a failure: the delay grows and maxRetries ends it', async () => {
    const times: number[] = [];
    const s = await server((_req, res) => {
      times.push(performance.now());
      startStream(res);
      res.end(':ok\n\n');
    });
    let connects = 0;
    const ac = new AbortController();
    const giveUp = setTimeout(() => ac.abort(), 10_000); // the old hot loop never rejects
    const client = new SSEClient(s.origin, {
      reconnect: {
        initialDelayMs: 20,
        multiplier: 2,
        maxDelayMs: 10_000,
        jitter: 0,
        maxRetries: 4,
      },
      onConnect: () => connects++, // still fires on every accepted response
    });
    const e = await rejection(client.subscribeRaw(() => {}, { signal: ac.signal }));
    clearTimeout(giveUp);
    expect(codeOf(e)).toBe('MAX_RETRIES');
    expect((e.cause as Error).message).toMatch(/before any event/);
    expect(s.requests.length).toBe(5);
    expect(connects).toBe(5);
    // Timers never fire early: the gaps are at least 20, 40, 80, 160 ms, not 20 each time.
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const [i, d] of [20, 40, 80, 160].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(d - 2);
  });

  test('a server that says retry: 0 and closes at once gets no hot loop: the delay grows from 100 ms', async () => {
    const times: number[] = [];
    const s = await server((_req, res) => {
      times.push(performance.now());
      startStream(res);
      res.end('retry: 0\n\n');
    });
    const ac = new AbortController();
    const giveUp = setTimeout(() => ac.abort(), 10_000);
    const client = new SSEClient(s.origin, {
      reconnect: { multiplier: 2, jitter: 0, maxRetries: 3 },
    });
    const e = await rejection(client.subscribeRaw(() => {}, { signal: ac.signal }));
    clearTimeout(giveUp);
    expect(codeOf(e)).toBe('MAX_RETRIES');
    expect(s.requests.length).toBe(4);
    // The first retry is at once, as the server asked; consecutive failures then wait 200, 400 ms.
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[1]).toBeGreaterThanOrEqual(198);
    expect(gaps[2]).toBeGreaterThanOrEqual(398);
  });

  test('a connection that delivers an event resets the failure count', async () => {
    // Two accept-and-close failures, then one event, then again: 6 failures in all, but never
    // more than the 3 retries maxRetries allows in a row (the end of the stream that worked, then
    // two that closed at once).
    const s = await scripted((n, res) => {
      startStream(res);
      res.end(n % 3 === 2 ? `data: ok ${n}\n\n` : '');
    });
    const got: string[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin, { reconnect: { ...fast, maxRetries: 3 } });
    await client.subscribeRaw(
      (e) => {
        got.push(e.data);
        if (got.length === 3) ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['ok 2', 'ok 5', 'ok 8']);
  });

  test('a quiet stream that stays open past maxDelayMs without events is not a failure', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.write(':keep-alive\n\n');
      // Open far longer than maxDelayMs, so even a client stalled by a busy machine sees that.
      setTimeout(() => res.end(), 300);
    });
    const ac = new AbortController();
    let disconnects = 0;
    const client = new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0, maxRetries: 1 },
      onDisconnect: () => {
        if (++disconnects === 4) ac.abort();
      },
    });
    await client.subscribeRaw(() => {}, { signal: ac.signal });
    expect(s.requests.length).toBe(4);
  });

  test('the validator sees only responses the client would accept: a 503 is still retried', async () => {
    const s = await scripted((n, res) => {
      if (n === 0) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('busy');
        return;
      }
      startStream(res);
      res.write('data: in\n\n');
    });
    const seen: number[] = [];
    const got: string[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin, {
      reconnect: fast,
      responseValidator: (res) => {
        seen.push(res.status);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
    });
    await client.subscribeRaw(
      (e) => {
        got.push(e.data);
        ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['in']);
    expect(seen).toEqual([200]);
    expect(s.requests.length).toBe(2);
  });

  test('HttpStatusError says what to check for each kind of status', async () => {
    const s = await server((req, res) => {
      res.writeHead(Number(req.url?.slice(1)));
      res.end();
    });
    const messages: Record<number, string> = {};
    for (const status of [401, 403, 404, 405, 408, 429, 500, 503]) {
      const client = new SSEClient(`${s.origin}/${status}`, { reconnect: false });
      const e = await rejection(client.subscribeRaw(() => {}));
      expect(codeOf(e)).toBe('HTTP_STATUS');
      expect(e.message).toContain(`HTTP ${status} from ${s.origin}/${status}`);
      messages[status] = e.message;
    }
    expect(messages[401]).toMatch(/credentials/);
    expect(messages[403]).toMatch(/credentials/);
    expect(messages[404]).toMatch(/URL and the stream name/);
    expect(messages[429]).toMatch(/rate limited/);
    expect(messages[408]).toMatch(/timed out/);
    for (const status of [500, 503]) {
      expect(messages[status]).toMatch(/server side/);
      expect(messages[status]).not.toMatch(/credentials/);
    }
    expect(messages[405]).toMatch(/method/);
  });

  test("HttpStatusError carries the server's own reason from a text reply", async () => {
    const s = await server((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Stream "nope" does not exist.\n');
    });
    const e = await rejection(
      new SSEClient(s.origin, { reconnect: false }).subscribe('nope', () => {}),
    );
    expect((e as unknown as { body: string }).body).toBe('Stream "nope" does not exist.');
    expect(e.message).toBe(
      `HTTP 404 from ${s.origin}/?stream=nope: check the URL and the stream name. The server said: "Stream \\"nope\\" does not exist."`,
    );
  });

  test('a retried status is retried at once, without waiting for its reply to end', async () => {
    // A 503 whose text reply never ends: reading it for the error message would hold each retry
    // up to a second.
    const s = await scripted((n, res) => {
      if (n < 2) {
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '0' });
        res.write('overloaded, and this reply goes on');
      } else {
        startStream(res);
        res.end('data: in\n\n');
      }
    });
    const got: string[] = [];
    const ac = new AbortController();
    const started = performance.now();
    await new SSEClient(s.origin, { reconnect: { initialDelayMs: 10 } }).subscribeRaw(
      (e) => {
        got.push(e.data);
        ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['in']);
    expect(performance.now() - started).toBeLessThan(1500); // reading both replies: over 2 s
  });

  test('the server’s retry sets the base delay', async () => {
    const s = await scripted((n, res) => {
      if (n === 0) {
        startStream(res);
        res.end('retry: 10\ndata: first\n\n');
      } else {
        res.writeHead(503);
        res.end();
      }
    });
    const client = new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 60_000, jitter: 0, maxRetries: 3 },
    });
    const started = performance.now();
    expect(codeOf(await rejection(client.subscribeRaw(() => {})))).toBe('MAX_RETRIES');
    // 10 + 20 + 40 ms, not a minute.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(s.requests.length).toBe(4);
  });

  test('Retry-After is honoured (0 on a 503; 1 second on a 429)', async () => {
    const times: number[] = [];
    const s = await scripted((n, res) => {
      times.push(performance.now());
      if (n === 0) res.writeHead(503, { 'retry-after': '0' });
      else if (n === 1) res.writeHead(429, { 'retry-after': '1' });
      else {
        startStream(res);
        res.end('data: in\n\n');
        return;
      }
      res.end();
    });
    const got: string[] = [];
    const client = new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 60_000, jitter: 0, maxRetries: 2 },
    });
    const ac = new AbortController();
    await client.subscribeRaw(
      (e) => {
        got.push(e.data);
        ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['in']);
    expect(times[1]! - times[0]!).toBeLessThan(5000); // not the 60 s backoff
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(990);
  });

  test('Retry-After as an HTTP-date: a date already past means retry now', async () => {
    const s = await scripted((n, res) => {
      if (n === 0) {
        res.writeHead(503, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() });
        res.end();
      } else {
        startStream(res);
        res.end('data: back\n\n');
      }
    });
    const got: string[] = [];
    const ac = new AbortController();
    const started = performance.now();
    await new SSEClient(s.origin, {
      reconnect: { initialDelayMs: 60_000, maxRetries: 1 },
    }).subscribeRaw(
      (e) => {
        got.push(e.data);
        ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['back']);
    expect(performance.now() - started).toBeLessThan(10_000); // not the minute of backoff
  });

  test('maxRetries counts consecutive failures only: a successful connect resets it', async () => {
    // 500, ok (then the end), 500, ok, …: never more than 2 failures in a row, so maxRetries 2
    // never gives up, though it fails far more than twice in all.
    const s = await scripted((n, res) => {
      if (n % 2 === 1) {
        startStream(res);
        res.end(`data: ok ${n}\n\n`);
      } else {
        res.writeHead(500);
        res.end();
      }
    });
    const got: string[] = [];
    const ac = new AbortController();
    const client = new SSEClient(s.origin, { reconnect: { ...fast, maxRetries: 2 } });
    await client.subscribeRaw(
      (e) => {
        got.push(e.data);
        if (got.length === 4) ac.abort();
      },
      { signal: ac.signal },
    );
    expect(got).toEqual(['ok 1', 'ok 3', 'ok 5', 'ok 7']);
  });

  test('reconnect: false resolves when the server ends the stream', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('data: 1\n\ndata: 2\n\n');
    });
    const got: string[] = [];
    await new SSEClient(s.origin, { reconnect: false }).subscribeRaw((e) => got.push(e.data));
    expect(got).toEqual(['1', '2']);
    expect(s.requests.length).toBe(1);
  });

  test('reconnect: false rejects on a dropped connection (CONNECTION_LOST) and on a 503', async () => {
    const s = await scripted((n, res) => {
      if (n === 0) {
        startStream(res);
        res.write('data: 1\n\n');
        setTimeout(() => res.socket?.destroy(), 10);
      } else {
        res.writeHead(503);
        res.end();
      }
    });
    const client = new SSEClient(s.origin, { reconnect: false });
    const got: string[] = [];
    const lost = await rejection(client.subscribeRaw((e) => got.push(e.data)));
    expect(got).toEqual(['1']);
    expect(codeOf(lost)).toBe('CONNECTION_LOST');
    expect(lost.cause).toBeInstanceOf(Error);
    const status = await rejection(client.subscribeRaw(() => {}));
    expect([codeOf(status), (status as unknown as { status: number }).status]).toEqual([
      'HTTP_STATUS',
      503,
    ]);
  });
});

describe('SSEClient: events()', () => {
  test('yields every event in order; leaving the loop closes the connection', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      for (let i = 0; i < 100; i++) res.write(`id: ${i}\ndata: ${i}\n\n`);
    });
    const client = new SSEClient(`${s.origin}/e`);
    const got: string[] = [];
    for await (const e of client.events('room')) {
      got.push(e.data);
      if (got.length === 100) break;
    }
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(s.requests.map((r) => r.url)).toEqual(['/e?stream=room']);
    await until(() => s.sockets.size === 0, 'the connection to close');
    expect(client.connected).toBe(false);
  });

  test('a fatal error rejects the iteration with its code', async () => {
    const s = await server((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const client = new SSEClient(s.origin);
    const e = await rejection(
      (async () => {
        for await (const _ of client.events()) {
          // no events
        }
      })(),
    );
    expect(codeOf(e)).toBe('HTTP_STATUS');
  });

  test('an abort signal ends the iteration; with reconnect: false the stream end does too', async () => {
    const s = await server((_req, res) => {
      startStream(res);
      res.end('data: a\n\ndata: b\n\n');
    });
    const got: string[] = [];
    for await (const e of new SSEClient(s.origin, { reconnect: false }).events()) got.push(e.data);
    expect(got).toEqual(['a', 'b']);
    const ac = new AbortController();
    const more: string[] = [];
    for await (const e of new SSEClient(s.origin, { reconnect: fast }).events(undefined, {
      signal: ac.signal,
    })) {
      more.push(e.data);
      if (more.length === 3) ac.abort();
    }
    expect(more).toEqual(['a', 'b', 'a']);
  });

  test('backpressure: a consumer that stops pulling stops the reading; then every event arrives', async () => {
    const total = 20_000;
    const payload = 'x'.repeat(1000);
    let written = 0;
    let finished = false;
    const s = await server((_req, res) => {
      startStream(res);
      const pump = () => {
        while (written < total) {
          const ok = res.write(`id: ${written}\ndata: ${written} ${payload}\n\n`);
          written++;
          if (!ok) return res.once('drain', pump);
        }
        finished = true;
        res.end();
      };
      pump();
    });
    const client = new SSEClient(s.origin, { reconnect: false });
    const it = client.events();
    const first = await it.next();
    expect(first.value?.id).toBe('0');
    // The consumer pauses. The server can only fill the bounded buffers, then must wait.
    await until(() => written > 0, 'writes');
    let before = -1;
    for (let i = 0; i < 50 && written !== before; i++) {
      before = written;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(written).toBe(before); // writing stalled…
    expect(finished).toBe(false); // …well before the end (20 MB)
    expect(written).toBeLessThan(total / 2);
    // Pulling again drains everything, in order, each once.
    let expected = 1;
    for await (const e of { [Symbol.asyncIterator]: () => it }) {
      expect(e.id).toBe(String(expected));
      expected++;
    }
    expect(expected).toBe(total);
  });
});
