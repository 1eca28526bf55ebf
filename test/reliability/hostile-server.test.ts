/**
 * SSEServer on node:http against hostile requests written byte by byte on raw sockets: random
 * request lines, query strings and header values (Last-Event-ID above all), slowloris clients and
 * one client opening many connections. Never a 5xx, never a crash, never an injected field: every
 * event a subscriber reads is one a publisher sent (or the server's own reset event).
 */
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { EventParser, type SSEEvent } from 'ssekit/protocol';
import { SSEServer } from 'ssekit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, subscribe } from '../support/http.js';
import { rawExchange, until } from './support.js';

const published = new Map<string, string>(); // id → data, for every event any publisher sent
let sse: SSEServer;
let app: Awaited<ReturnType<typeof serve>>;
let port: number;
const historyIds: string[] = [];

beforeAll(async () => {
  sse = new SSEServer({
    autoStream: true,
    keepAliveMs: 0,
    history: { maxEvents: 1000 },
    onSubscribe(stream) {
      if (stream === 'many') return;
      // A live event after the connect, so the test knows when the replay has been read.
      setImmediate(() => {
        sse.publish(stream, { event: 'sentinel', data: 'sentinel' }).then(
          (id) => published.set(id, 'sentinel'),
          () => {},
        );
      });
    },
  });
  sse.createStream('news');
  for (let i = 0; i < 5; i++) {
    const data = `news ${i}\nline two`;
    const id = await sse.publish('news', data);
    published.set(id, data);
    historyIds.push(id);
  }
  app = await serve(sse.handler);
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await sse.close();
  await app.close();
});

/** The body of an HTTP/1.x response, with chunked transfer coding removed. */
function bodyOf(text: string): string {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return '';
  const head = text.slice(0, split).toLowerCase();
  let rest = text.slice(split + 4);
  if (!head.includes('transfer-encoding: chunked')) return rest;
  let out = '';
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) break;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) break;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return out;
}

/** Every event and every line of an event-stream body is one the server may send. */
function checkNoInjection(
  body: string,
  stream: string | null,
  sentLastEventId: string | undefined,
) {
  const bytes = Buffer.from(body, 'latin1');
  const events: SSEEvent[] = [];
  const parser = new EventParser({ onEvent: (e) => events.push(e) });
  parser.feed(bytes);
  for (const line of bytes.toString('utf8').split('\n')) {
    const ok =
      line === '' ||
      line === ':ok' ||
      line === 'event: sentinel' ||
      line === 'event: reset' ||
      (line.startsWith('id: ') && published.has(line.slice(4))) ||
      (line.startsWith('data: ') && line.length > 6);
    expect(ok, `unexpected line ${JSON.stringify(line)} in ${JSON.stringify(body)}`).toBe(true);
  }
  for (const e of events) {
    if (e.event === 'reset') {
      const data = JSON.parse(e.data) as Record<string, unknown>;
      expect(Object.keys(data).sort()).toEqual(['lastEventId', 'reason']);
      expect(typeof data.reason).toBe('string');
      continue;
    }
    expect(published.get(e.id), `event ${JSON.stringify(e)}`).toBe(e.data);
    expect(e.event).toBe(e.data === 'sentinel' ? 'sentinel' : 'message');
    expect(e.retry).toBeUndefined();
  }
  if (stream !== 'news' || sentLastEventId === undefined) return;
  const replayed = events.filter((e) => e.event !== 'sentinel');
  if (historyIds.includes(sentLastEventId)) {
    // A replay from a real id sends what followed it, in order, once.
    const after = historyIds.slice(historyIds.indexOf(sentLastEventId) + 1);
    expect(replayed.map((e) => e.id)).toEqual(after);
  } else if (/^[a-z]+$/.test(sentLastEventId)) {
    // An id never issued: a reset, then all that is held.
    expect(replayed.map((e) => e.event)).toEqual(['reset', ...historyIds.map(() => 'message')]);
    expect(JSON.parse(replayed[0]!.data).lastEventId).toBe(sentLastEventId);
  }
}

// Pieces of hostile input.
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const latin1Bytes = fc
  .uint8Array({ minLength: 1, maxLength: 40 })
  .map((b) => Buffer.from(b).toString('latin1'));
// Values node's parser accepts (visible ASCII, spaces and bytes 0x80-0xff) most of the time.
const safeValue = fc
  .uint8Array({ maxLength: 40 })
  .map((b) =>
    Buffer.from(b.map((c) => (c < 0x20 || c === 0x7f ? 0x41 + (c % 26) : c))).toString('latin1'),
  );
const headerValue = fc.oneof(
  { arbitrary: safeValue, weight: 6 },
  anyText,
  latin1Bytes,
  fc.constantFrom('', ' ', '\0', 'x\r\nInjected: 1', 'a\rdata: evil', 'a\ndata: evil', '%0d%0a'),
  fc.constantFrom(...['1', '0', '-1', '99999999999999999999', 'é', 'nope']),
  fc.nat({ max: 20_000 }).map((n) => 'A'.repeat(n)),
);
const queryPart = fc.oneof(
  { arbitrary: fc.constant('stream=news'), weight: 12 },
  anyText.map((s) => `stream=${encodeURIComponent(s)}`),
  latin1Bytes.map((s) => `stream=${s}`),
  anyText.map((s) => `lastEventId=${encodeURIComponent(s)}`),
  fc.constantFrom('stream=', 'stream', '%', '%zz', '&&', '==', 'stream=%00', 'stream=%0d%0a'),
  fc.constantFrom('stream=news&stream=other', `stream=${'n'.repeat(300)}`),
);
const method = fc.oneof(
  fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  fc.stringMatching(/^[A-Z]{1,10}$/),
);
const request = fc.record({
  method,
  // '//' and '//:99999' made the server answer 500: URL parsing read them as an authority.
  path: fc.constantFrom('/events', '/', '/events/x', '*', '//events', '//', '//:99999/', '///'),
  query: fc.array(queryPart, { minLength: 1, maxLength: 3 }),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
  lastEventId: fc.option(fc.oneof(headerValue, fc.constantFrom(...['0', '1', '2'])), {
    nil: undefined,
  }),
  extra: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), headerValue), {
    maxLength: 2,
  }),
});

describe('SSEServer against hostile requests on raw sockets', () => {
  it('answers random request lines, queries and headers without a 5xx or an injected field', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Sometimes a real id, to exercise replay from random connections.
        let lastEventId = r.lastEventId;
        if (lastEventId !== undefined && /^[0-2]$/.test(lastEventId)) {
          lastEventId = historyIds[Number(lastEventId)];
        }
        const target = r.query.length > 0 ? `${r.path}?${r.query.join('&')}` : r.path;
        let head = `${r.method} ${target} ${r.version}\r\nHost: 127.0.0.1\r\n`;
        if (lastEventId !== undefined) head += `Last-Event-ID: ${lastEventId}\r\n`;
        for (const [k, v] of r.extra) head += `${k}: ${v}\r\n`;
        head += 'Connection: close\r\n\r\n';
        const answer = await rawExchange(port, Buffer.from(head, 'latin1'), {
          done: (text) => text.includes('data: sentinel\n\n') || text.endsWith('\r\n\r\n'),
        });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(200);
        expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
        if (answer.status === 200 && r.method === 'GET') {
          const stream = new URLSearchParams(target.split('?')[1] ?? '').get('stream');
          checkNoInjection(bodyOf(answer.text), stream, lastEventId);
        }
      }),
      { numRuns: 400 },
    );
    // The run exercised subscriptions, refusals and node's own parser errors.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(20);
    expect(statuses.get(405) ?? 0).toBeGreaterThan(5);
  }, 90_000);

  it('answers random raw bytes with a 4xx or by closing, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .uint8Array({ maxLength: 200 })
            .map((b) => Buffer.concat([Buffer.from('GET /events?stream=news HTTP/1.1\r\n'), b])),
        ),
        async (bytes) => {
          const answer = await rawExchange(port, bytes, { timeoutMs: 200 });
          if (answer.status !== 0) expect(answer.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    const sub = await subscribe(`http://127.0.0.1:${port}/events?stream=news`);
    const id = await sse.publish('news', 'still here');
    published.set(id, 'still here');
    const events = await sub.waitFor(2); // the sentinel and this one
    expect(events.map((e) => e.data).sort()).toEqual(['sentinel', 'still here']);
    sub.close();
  }, 60_000);

  it('serves normal subscribers while 200 slowloris sockets trickle headers and never finish', async () => {
    const slow: Socket[] = [];
    let stop = false;
    try {
      for (let i = 0; i < 200; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        slow.push(s);
      }
      const head = 'GET /events?stream=news HTTP/1.1\r\nHost: x\r\nX-Slow: ';
      const trickle = (async () => {
        // One byte per socket every 20 ms, for at most 300 rounds; never the final blank line.
        for (let round = 0; round < 300 && !stop; round++) {
          for (const s of slow) if (!s.destroyed) s.write(head[round % head.length] ?? 'a');
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const subs = await Promise.all(
        [0, 1, 2].map(() => subscribe(`http://127.0.0.1:${port}/events?stream=news`)),
      );
      const data: string[] = [];
      for (let i = 0; i < 20; i++) {
        const d = `during slowloris ${i}`;
        data.push(d);
        published.set(await sse.publish('news', d), d);
      }
      for (const s of subs) {
        await until(
          () => s.events.filter((e) => e.event === 'message').length >= 20,
          20_000,
          'the 20 events',
        );
        const events = s.events;
        expect(events.filter((e) => e.event === 'message').map((e) => e.data)).toEqual(data);
        s.close();
      }
      // The slow sockets are still there, still unanswered: they cost a socket each, nothing more.
      expect(slow.filter((s) => !s.destroyed).length).toBe(200);
      stop = true;
      await trickle;
    } finally {
      stop = true;
      for (const s of slow) s.destroy();
    }
  }, 60_000);

  it('holds 2000 connections from one client and serves each of them every event', async () => {
    const sockets: Socket[] = [];
    const received: string[] = [];
    try {
      for (let i = 0; i < 2000; i++) {
        const s = connect(port, '127.0.0.1');
        s.setEncoding('latin1');
        const at = i;
        received[at] = '';
        s.on('data', (d: string) => {
          received[at] += d;
        });
        s.on('error', () => {});
        s.write('GET /events?stream=many HTTP/1.1\r\nHost: x\r\n\r\n');
        sockets.push(s);
      }
      await until(
        () => received.every((t) => t.includes(':ok\n')),
        60_000,
        'every connection to be subscribed',
      );
      const id = await sse.publish('many', 'to all 2000');
      published.set(id, 'to all 2000');
      await until(
        () => received.every((t) => t.includes('data: to all 2000\n\n')),
        60_000,
        'every connection to get the event',
      );
      expect(received.filter((t) => t.startsWith('HTTP/1.1 200')).length).toBe(2000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 120_000);
});
