/**
 * `ssekit serve` (from the sources, as a child process) against hostile clients: random
 * requests, publish bodies with hostile fields, oversize and invalid bodies, invalid JWTs, one
 * client opening many connections, and slowloris sockets. Never a 5xx, never a crash, never an
 * injected field, and every refusal says why.
 */
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import type { SSEEvent } from 'ssekit/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../support/http.js';
import { killChildren, rawExchange, startHub, until } from './support.js';

const SECRET = 'reliability-secret-of-at-least-32-bytes!';
const TOKEN = 'publish-token';
let hub: Awaited<ReturnType<typeof startHub>>;
let port: number;

beforeAll(async () => {
  hub = await startHub(
    [
      '--jwt-secret',
      SECRET,
      '--allow-anonymous',
      '--publish-token',
      TOKEN,
      '--max-body',
      '4096',
      '--max-subscribers',
      '100',
      '--keep-alive',
      '0',
      '--log-level',
      'error',
    ],
    {},
  );
  port = Number(new URL(hub.url).port);
});
afterAll(async () => {
  await killChildren();
});

const publish = (stream: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${hub.url}/publish?stream=${encodeURIComponent(stream)}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  });

const secret = new TextEncoder().encode(SECRET);
const jwt = (claims: Record<string, unknown>, exp = '1h', key = secret) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);

describe('the hub against hostile input', () => {
  it('answers random requests on every path without a 5xx, and stays up', async () => {
    const statuses = new Map<number, number>();
    const line = fc.record({
      method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'BREW'),
      // Not '//': the hub answers it 500 (reported; see the test below).
      path: fc.constantFrom('/events', '/publish', '/', '/healthz', '/metrics', '/x', '/events/'),
      query: fc.oneof(
        fc.constant('stream=news'),
        fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `stream=${encodeURIComponent(s)}`),
        fc.constantFrom(
          '',
          'stream=',
          '%',
          'token=abc',
          'token=a.b.c',
          `stream=${'n'.repeat(300)}`,
        ),
      ),
      auth: fc.constantFrom(
        undefined,
        `Bearer ${TOKEN}`,
        'Bearer',
        'Basic abc',
        'Bearer a.b.c',
        'Bearer x'.repeat(2000),
      ),
      type: fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/json; x'),
      body: fc.oneof(fc.string({ maxLength: 60 }), fc.json(), fc.constant('{"data":')),
      lastEventId: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(line, async (r) => {
        const body = Buffer.from(r.body);
        let head = `${r.method} ${r.path}?${r.query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n`;
        if (r.auth) head += `Authorization: ${r.auth}\r\n`;
        if (r.type) head += `Content-Type: ${r.type}\r\n`;
        if (r.lastEventId !== undefined) {
          head += `Last-Event-ID: ${r.lastEventId.replace(/[\r\n\0]/g, '')}\r\n`;
        }
        head += `Content-Length: ${body.length}\r\n\r\n`;
        const answer = await rawExchange(port, Buffer.concat([Buffer.from(head, 'utf8'), body]), {
          done: (text) => /\r\n\r\n/.test(text) && !text.includes('text/event-stream'),
          timeoutMs: 1500,
        });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(200);
        expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: 250 },
    );
    expect(hub.proc.exitCode).toBe(null);
    const health = await fetch(`${hub.url}/healthz`);
    expect(health.status).toBe(200);
    expect(statuses.size).toBeGreaterThan(4);
  }, 90_000);

  it('delivers exactly the fields a publisher set, or refuses the event with a 400', async () => {
    expect((await publish('fields', 'created')).status).toBe(200);
    const sub = await subscribe(`${hub.url}/events?stream=fields`);
    expect(sub.response.status).toBe(200);
    const accepted: Array<{ data: string; id?: string; event?: string }> = [];
    const field = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('a\nretry: 1', 'x\r\ndata: evil', 'e\revent: y', 'id\0', ': c', ''),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { data: field, id: field, event: field, retry: fc.oneof(fc.nat(), fc.constant(-1)) },
          { requiredKeys: ['data'] },
        ),
        async (event) => {
          const res = await publish('fields', JSON.stringify(event), {
            'Content-Type': 'application/json',
          });
          const text = await res.text();
          expect(res.status, text).not.toBeGreaterThanOrEqual(500);
          if (res.status === 200) {
            accepted.push({
              data: event.data,
              ...(event.id === undefined ? {} : { id: event.id }),
              ...(event.event === undefined ? {} : { event: event.event }),
            });
          } else {
            expect(res.status, text).toBe(400);
            expect(text.length).toBeGreaterThan(10);
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(accepted.length).toBeGreaterThan(20);
    const got = await sub.waitFor(accepted.length, 20_000);
    sub.close();
    expect(got.length).toBe(accepted.length);
    got.forEach((e: SSEEvent, i) => {
      const want = accepted[i]!;
      // Data lines come back joined with LF, whatever line ends they had.
      expect(e.data).toBe(want.data.replace(/\r\n|\r/g, '\n'));
      expect(e.event).toBe(want.event || 'message');
      if (want.id !== undefined) expect(e.id).toBe(want.id);
    });
  }, 60_000);

  // `new URL(target, base)` reads `//x` as a host name (and throws on `//h:99999`): the hub
  // answered 500 until it parsed the target itself.
  it('answers a request target of // with a 4xx, not a 500', async () => {
    for (const target of ['//', '//?stream=x', '//:99999/']) {
      const answer = await rawExchange(
        port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, target).toBeLessThan(500);
    }
  });

  it('refuses oversize bodies, invalid JSON and bad tokens with a 4xx that says why', async () => {
    const big = await publish('limits', 'x'.repeat(5000));
    expect(big.status).toBe(413);
    expect(await big.text()).toMatch(/4096/);
    // Without a Content-Length (chunked): the hub counts as it reads.
    const chunked = await rawExchange(
      port,
      `POST /publish?stream=limits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n${'1000\r\n'}${'y'.repeat(4096)}\r\n1000\r\n${'y'.repeat(4096)}\r\n0\r\n\r\n`,
    );
    expect(chunked.status).toBe(413);
    const json = await publish('limits', '{"data": ', { 'Content-Type': 'application/json' });
    expect(json.status).toBe(400);
    expect(await json.text()).toMatch(/JSON/);
    const noData = await publish('limits', '{"id": "1"}', { 'Content-Type': 'application/json' });
    expect(noData.status).toBe(400);

    const tokens: Array<[string, number]> = [
      ['not-a-jwt', 403],
      ['a.b.c', 401],
      [
        await jwt({ ssekit: { publish: ['*'] } }, '1h', new TextEncoder().encode('x'.repeat(40))),
        401,
      ],
      [await jwt({ ssekit: { publish: ['*'] } }, '-1h'), 401],
      [await jwt({ ssekit: { publish: ['other'] } }), 403],
      [await jwt({ ssekit: { subscribe: ['*'] } }), 403],
      [await jwt({}), 403],
      // alg "none": an unsigned token is never accepted.
      [
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"ssekit":{"publish":["*"]}}').toString('base64url')}.`,
        401,
      ],
    ];
    for (const [token, status] of tokens) {
      const res = await fetch(`${hub.url}/publish?stream=limits`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: 'x',
      });
      const text = await res.text();
      expect(res.status, `${token}: ${text}`).toBe(status);
      expect(text.length, token).toBeGreaterThan(10);
    }
    const ok = await fetch(`${hub.url}/publish?stream=limits`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await jwt({ ssekit: { publish: ['lim*'] } })}` },
      body: 'x',
    });
    expect(ok.status).toBe(200);
    expect(hub.proc.exitCode).toBe(null);
  });

  it('answers one client opening 1500 connections to a stream with 429 past its limit', async () => {
    await publish('crowd', 'exists');
    const sockets: Socket[] = [];
    const texts: string[] = [];
    try {
      for (let i = 0; i < 1500; i++) {
        const s = connect(port, '127.0.0.1');
        s.setEncoding('latin1');
        texts[i] = '';
        const at = i;
        s.on('data', (d: string) => {
          texts[at] += d;
        });
        s.on('error', () => {});
        s.write('GET /events?stream=crowd HTTP/1.1\r\nHost: x\r\n\r\n');
        sockets.push(s);
        // Waves of 100, so the connections arrive as a burst but in a known order.
        if (i % 100 === 99) {
          await until(
            () => texts.every((t) => /\r\n\r\n/.test(t)),
            30_000,
            `answers to the first ${i + 1} connections`,
          );
        }
      }
      const status = (t: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(t)?.[1]);
      const ok = texts.filter((t) => status(t) === 200).length;
      const limited = texts.filter((t) => status(t) === 429);
      expect(ok).toBe(100);
      expect(limited.length).toBe(1400);
      expect(limited[0]).toMatch(/Retry-After: 5/i);
      expect(limited[0]).toMatch(/maximum of 100 subscribers/);
    } finally {
      for (const s of sockets) s.destroy();
    }
    expect(hub.proc.exitCode).toBe(null);
  }, 120_000);

  it('serves subscribers and publishers while 200 slowloris sockets trickle headers', async () => {
    const slow: Socket[] = [];
    let stop = false;
    try {
      for (let i = 0; i < 200; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        slow.push(s);
      }
      const trickle = (async () => {
        const head = 'POST /publish?stream=slow HTTP/1.1\r\nHost: x\r\nX-Slow: ';
        for (let round = 0; round < 300 && !stop; round++) {
          for (const s of slow) if (!s.destroyed) s.write(head[round % head.length] ?? 'a');
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await publish('slowloris', 'create');
      const sub = await subscribe(`${hub.url}/events?stream=slowloris`);
      const sent = Array.from({ length: 20 }, (_, i) => `during ${i}`);
      for (const d of sent) expect((await publish('slowloris', d)).status).toBe(200);
      const got = await sub.waitFor(20, 20_000);
      sub.close();
      expect(got.map((e) => e.data)).toEqual(sent);
      stop = true;
      await trickle;
    } finally {
      stop = true;
      for (const s of slow) s.destroy();
    }
  }, 60_000);
});

describe('the hub against one client holding many subscriptions', () => {
  it('answers past the per-client limit with 429 and past the hub total with 503', async () => {
    const small = await startHub(
      [
        '--max-subscribers-per-client',
        '30',
        '--max-connections',
        '50',
        '--auto-stream',
        '--keep-alive',
        '0',
        '--log-level',
        'error',
      ],
      {},
    );
    const smallPort = Number(new URL(small.url).port);
    const sockets: Socket[] = [];
    const open = async (from: string, n: number): Promise<number[]> => {
      const texts: string[] = [];
      for (let i = 0; i < n; i++) {
        const s = connect({ port: smallPort, host: '127.0.0.1', localAddress: from });
        s.setEncoding('latin1');
        texts[i] = '';
        s.on('data', (d: string) => {
          texts[i] += d;
        });
        s.on('error', () => {});
        s.write(`GET /events?stream=s${i % 3} HTTP/1.1\r\nHost: x\r\n\r\n`);
        sockets.push(s);
      }
      await until(() => texts.every((t) => /\r\n\r\n/.test(t)), 30_000, `answers from ${from}`);
      return texts.map((t) => Number(/^HTTP\/1\.1 (\d{3})/.exec(t)?.[1]));
    };
    try {
      const first = await open('127.0.0.1', 35);
      expect(first.filter((s) => s === 200)).toHaveLength(30);
      expect(first.filter((s) => s === 429)).toHaveLength(5);
      const second = await open('127.0.0.2', 30);
      // 30 + 20 reach the hub's total of 50; the rest are refused with 503.
      expect(second.filter((s) => s === 200)).toHaveLength(20);
      expect(second.filter((s) => s === 503)).toHaveLength(10);
      const reason = await fetch(`${small.url}/events?stream=s0`);
      expect(reason.status).toBe(503);
      expect(await reason.text()).toMatch(/maximum of 50 subscribers \(--max-connections\)/);
      // Closing subscriptions frees their places.
      for (const s of sockets.splice(0, 10)) s.destroy();
      await until(async () => (await open('127.0.0.3', 1))[0] === 200, 10_000, 'a freed place');
    } finally {
      for (const s of sockets) s.destroy();
      small.proc.kill('SIGTERM');
    }
  }, 90_000);
});
