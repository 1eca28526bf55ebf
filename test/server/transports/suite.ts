/**
 * What every transport must do, run over real loopback HTTP against each adapter: the same
 * headers, the same events in the same order, replay, disconnect detection without leaks, and the
 * same error replies.
 */
import { type ServerOptions, SSEServer, type UnsubscribeInfo } from 'ssekit/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  activeResources,
  fetchText,
  type OpenStream,
  openStream,
  sampleData,
  type TextReply,
  waitFor,
} from '../loopback.js';

/** How a test talks to a transport: HTTP/1.1 by default, or an HTTP/2 session. */
export interface Client {
  open(url: string, headers?: Record<string, string>): Promise<OpenStream>;
  text(url: string, method?: string, headers?: Record<string, string>): Promise<TextReply>;
}

export const http1: Client = { open: openStream, text: fetchText };

/** A transport under test, mounted on a fresh HTTP server. */
export interface Mounted {
  /** The subscribe endpoint, without a query. */
  url: string;
  close(): Promise<void>;
}

export type Mount = (sse: SSEServer) => Promise<Mounted>;

export interface SuiteOptions {
  mount: Mount;
  client?: Client;
  /** Extra server options (e.g. to let compression act). */
  options?: ServerOptions;
  /** The framework answers methods the app did not route (Next.js does), not ssekit. */
  frameworkAnswers405?: boolean;
}

const ORIGIN = 'http://app.example';

/** Assert the event-stream headers every transport must send. */
export function expectEventStreamHeaders(headers: OpenStream['headers']): void {
  expect(headers['content-type']).toBe('text/event-stream');
  expect(headers['cache-control']).toBe('no-cache, no-transform');
  expect(headers['x-accel-buffering']).toBe('no');
}

export function transportSuite(name: string, suite: SuiteOptions): void {
  const client = suite.client ?? http1;

  describe(`${name}: the transport contract`, () => {
    let sse: SSEServer;
    let mounted: Mounted;
    let opened: OpenStream[];
    let subscribed: string[];
    let unsubscribed: UnsubscribeInfo[];

    beforeEach(async () => {
      opened = [];
      subscribed = [];
      unsubscribed = [];
      sse = new SSEServer({
        keepAliveMs: 0,
        cors: { origin: ORIGIN },
        authorize: (_req, stream) => stream !== 'secret',
        onSubscribe: (stream) => subscribed.push(stream),
        onUnsubscribe: (_stream, info) => unsubscribed.push(info),
        ...suite.options,
      });
      sse.createStream('news');
      mounted = await suite.mount(sse);
    });

    afterEach(async () => {
      for (const s of opened) s.close();
      await sse.close();
      await mounted.close();
    });

    const open = async (query: string, headers?: Record<string, string>) => {
      const s = await client.open(`${mounted.url}?${query}`, headers);
      opened.push(s);
      return s;
    };

    it('answers a subscription with 200 and the event-stream headers', async () => {
      const s = await open('stream=news');
      expect(s.status).toBe(200);
      expectEventStreamHeaders(s.headers);
      await waitFor(() => subscribed.length === 1, 'onSubscribe');
      expect(subscribed).toEqual(['news']);
    });

    it('delivers every event complete and in publish order', async () => {
      const s = await open('stream=news');
      await waitFor(() => subscribed.length === 1, 'onSubscribe');
      const expected = [];
      for (let i = 0; i < 60; i++) {
        const event = i % 4 === 0 ? 'update' : 'message';
        const data = i === 59 ? 'x'.repeat(70_000) : sampleData(i);
        const id = await sse.publish('news', event === 'message' ? data : { event, data });
        expected.push({ id, event, data });
      }
      expect(await s.log.take(60)).toEqual(expected);
      expect(s.log.events).toHaveLength(60);
    });

    it('replays the events after Last-Event-ID once each, then live events', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await sse.publish('news', sampleData(i)));
      const s = await open('stream=news', { 'Last-Event-ID': ids[1]! });
      await waitFor(() => subscribed.length === 1, 'onSubscribe');
      ids.push(await sse.publish('news', sampleData(5)));
      const got = await s.log.take(4);
      expect(got).toEqual(
        [2, 3, 4, 5].map((i) => ({ id: ids[i], event: 'message', data: sampleData(i) })),
      );
    });

    it('replays from the lastEventId query parameter for clients that cannot set headers', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await sse.publish('news', sampleData(i)));
      const s = await open(`stream=news&lastEventId=${encodeURIComponent(ids[0]!)}`);
      expect(await s.log.take(2)).toEqual(
        [1, 2].map((i) => ({ id: ids[i], event: 'message', data: sampleData(i) })),
      );
    });

    it('sends a reset event and then the whole history for an id it cannot resume', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await sse.publish('news', sampleData(i)));
      const s = await open('stream=news', { 'Last-Event-ID': 'never-issued' });
      const got = await s.log.take(4);
      expect(got[0]).toEqual({
        id: '', // a reset carries no id: a client that drops now asks from the same place
        event: 'reset',
        data: JSON.stringify({ reason: 'unknown', lastEventId: 'never-issued' }),
      });
      expect(got.slice(1)).toEqual(
        [0, 1, 2].map((i) => ({ id: ids[i], event: 'message', data: sampleData(i) })),
      );
    });

    it('detects a client disconnect and leaks no timers, sockets or listeners', async () => {
      const stream = sse.createStream('news');
      // Warm up once so lazily created handles (sessions, caches) are not counted as leaks.
      const warm = await open('stream=news');
      await waitFor(() => stream.subscriberCount === 1, 'the first subscriber');
      warm.close();
      await waitFor(() => unsubscribed.length === 1, 'the first onUnsubscribe');
      await settle();
      const before = activeResources();

      const clients = [];
      for (let i = 0; i < 10; i++) clients.push(await open('stream=news'));
      await waitFor(() => stream.subscriberCount === 10, 'ten subscribers');
      await sse.publish('news', 'hello');
      for (const c of clients) await c.log.take(1);
      for (const c of clients) c.close();
      await waitFor(() => unsubscribed.length === 11, 'every onUnsubscribe');
      expect(new Set(unsubscribed.map((u) => u.reason))).toEqual(new Set(['client-closed']));
      expect(stream.subscriberCount).toBe(0);
      await settle();
      expect(growth(before, activeResources())).toEqual({});
      // Publishing to a stream with no subscribers still works.
      await expect(sse.publish('news', 'after')).resolves.toMatch(/./);
    });

    it('ends every subscriber cleanly on close()', async () => {
      const a = await open('stream=news');
      const b = await open('stream=news');
      await waitFor(() => subscribed.length === 2, 'two subscribers');
      await sse.publish('news', 'last');
      await sse.close();
      await a.log.closed();
      await b.log.closed();
      expect(a.log.events.map((e) => e.data)).toEqual(['last']);
      expect(b.log.events.map((e) => e.data)).toEqual(['last']);
      expect(unsubscribed.map((u) => u.reason)).toEqual(['server-closed', 'server-closed']);
    });

    it('answers HEAD with the headers and no body', async () => {
      const r = await client.text(`${mounted.url}?stream=news`, 'HEAD');
      expect(r.status).toBe(200);
      expectEventStreamHeaders(r.headers);
      expect(r.body).toBe('');
      expect(subscribed).toEqual([]);
    });

    it('answers other methods with 405 and Allow: GET, HEAD', async () => {
      const r = await client.text(`${mounted.url}?stream=news`, 'DELETE');
      expect(r.status).toBe(405);
      if (suite.frameworkAnswers405) return;
      expect(r.headers.allow).toBe('GET, HEAD');
      expectPlainText(r, /DELETE/);
    });

    it('answers 400, 404 and 403 with a plain-text reason', async () => {
      expectPlainText(await client.text(mounted.url), /stream/, 400);
      expectPlainText(await client.text(`${mounted.url}?stream=nope`), /nope/, 404);
      sse.createStream('secret');
      expectPlainText(await client.text(`${mounted.url}?stream=secret`), /secret/, 403);
      expect(subscribed).toEqual([]);
    });

    it('answers a CORS preflight and marks allowed cross-origin subscriptions', async () => {
      const pre = await client.text(`${mounted.url}?stream=news`, 'OPTIONS', {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'last-event-id',
      });
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(String(pre.headers['access-control-allow-headers'])).toMatch(/Last-Event-ID/i);
      expect(String(pre.headers['access-control-allow-methods'])).toMatch(/GET/);

      const s = await open('stream=news', { Origin: ORIGIN });
      expect(s.headers['access-control-allow-origin']).toBe(ORIGIN);
      const other = await open('stream=news', { Origin: 'http://evil.example' });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
}

function expectPlainText(r: TextReply, says: RegExp, status?: number): void {
  if (status !== undefined) expect(r.status).toBe(status);
  expect(r.headers['content-type']).toMatch(/^text\/plain/);
  expect(r.body).toMatch(says);
  expect(r.body.length).toBeLessThan(300);
}

/**
 * Which kinds of handles grew. node:http keeps one short timer for its Date header cache, which
 * may come and go between two counts, so one extra Timeout is not a leak; one per connection is.
 */
export function growth(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const grew: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after)) {
    const more = n - (before[kind] ?? 0);
    if (more > (kind === 'Timeout' ? 1 : 0)) grew[kind] = more;
  }
  return grew;
}

/** Let closed sockets and their callbacks finish before counting resources. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
}

/**
 * Through the `compression` middleware: by default `no-transform` keeps it from compressing; when
 * a user lets it compress, the transport's `res.flush()` still pushes out each event at once.
 * Both are checked in lockstep: the next event is published only after the last one arrived.
 */
export function compressionSuite(name: string, mount: Mount): void {
  describe(`${name} behind the compression middleware`, () => {
    const lockstep = async (options: ServerOptions, encoding: string | undefined) => {
      const sse = new SSEServer({ keepAliveMs: 0, ...options });
      const stream = sse.createStream('zipped');
      const mounted = await mount(sse);
      const s = await openStream(`${mounted.url}?stream=zipped`, { 'Accept-Encoding': 'gzip' });
      try {
        expect(s.status).toBe(200);
        expect(s.headers['content-encoding']).toBe(encoding);
        expect(s.headers['content-type']).toBe('text/event-stream');
        await waitFor(() => stream.subscriberCount === 1, 'the subscriber');
        const expected = [];
        for (let i = 0; i < 5; i++) {
          const id = await sse.publish('zipped', sampleData(i));
          expected.push({ id, event: 'message', data: sampleData(i) });
          expect(await s.log.take(i + 1)).toEqual(expected);
        }
      } finally {
        s.close();
        await sse.close();
        await mounted.close();
      }
    };

    it('is left uncompressed by Cache-Control: no-transform, and each event arrives at once', () =>
      lockstep({}, undefined));

    it('flushes each gzip-compressed event at once when compression is allowed', () =>
      lockstep({ headers: { 'Cache-Control': 'no-cache' } }, 'gzip'));
  });
}
