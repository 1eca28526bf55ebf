// Replay after a forced disconnect, against real servers: better-sse (with Last-Event-ID replay
// done by the test's own history, as better-sse keeps none) and ssekit's SSEServer.
import { createSession, type Session } from 'better-sse';
import { EventSource, SSEClient, type SSEEvent } from 'ssekit/client';
import { SSEServer } from 'ssekit/server';
import { afterEach, describe, expect, test } from 'vitest';
import { header, type Loopback, loopback, until } from './helpers.js';

const TOTAL = 300;
const DROP_AT = [100, 200]; // force a disconnect after publishing these

const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Cut every open connection from the server side, mid-stream. */
function forceDisconnect(s: Loopback): void {
  for (const socket of s.sockets) socket.destroy();
}

/**
 * Publish TOTAL events with a little pause every 10, cutting every connection at DROP_AT, while
 * publishing goes on (events published while the client is away must be replayed).
 */
async function publishAll(s: Loopback, publish: (i: number) => unknown): Promise<void> {
  for (let i = 1; i <= TOTAL; i++) {
    await publish(i);
    if (DROP_AT.includes(i)) forceDisconnect(s);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  }
}

const expected = Array.from({ length: TOTAL }, (_, i) => `m${i + 1}`);

/** Collect TOTAL events with an SSEClient's events() (or subscribe), checking order and uniqueness. */
async function collectWithClient(
  url: string,
  stream: string | undefined,
  run: () => Promise<void>,
) {
  const client = new SSEClient(url, { reconnect: { initialDelayMs: 10, jitter: 0 } });
  const got: SSEEvent[] = [];
  const consuming = (async () => {
    for await (const e of client.events(stream)) {
      got.push(e);
      if (got.length === TOTAL) break;
    }
  })();
  await until(() => client.connected, 'the first connect');
  await run();
  await Promise.race([
    consuming,
    until(() => got.length >= TOTAL, `${TOTAL} events (got ${got.length})`, 15_000),
  ]);
  await consuming;
  return got;
}

describe('better-sse server', () => {
  async function betterSse() {
    const history: { id: string; data: string }[] = [];
    const sessions = new Set<Session>();
    const s = await loopback(async (req, res) => {
      const session = await createSession(req, res, {
        retry: 10,
        keepAlive: null,
        serializer: (d) => String(d),
      });
      // Replay what came after the client's Last-Event-ID, then go live (synchronously, so no
      // publish can slip in between).
      const from = header(req, 'last-event-id');
      const at = from === '' ? -1 : history.findIndex((h) => h.id === from);
      for (const h of history.slice(at + 1)) session.push(h.data, 'message', h.id);
      sessions.add(session);
      session.on('disconnected', () => sessions.delete(session));
    });
    servers.push(s);
    const publish = (i: number) => {
      const event = { id: String(i), data: `m${i}` };
      history.push(event);
      for (const session of sessions) session.push(event.data, 'message', event.id);
    };
    return { s, publish };
  }

  test('SSEClient: every event once, in order, across forced disconnects', async () => {
    const { s, publish } = await betterSse();
    const got = await collectWithClient(s.origin, undefined, () => publishAll(s, publish));
    expect(got.map((e) => e.data)).toEqual(expected);
    expect(got.map((e) => e.id)).toEqual(expected.map((d) => d.slice(1)));
    const resumed = s.requests.slice(1).map((r) => header(r, 'last-event-id'));
    expect(resumed.length).toBeGreaterThanOrEqual(DROP_AT.length);
    expect(resumed.every((id) => id !== '')).toBe(true);
  });

  test('EventSource: every event once, in order, across forced disconnects', async () => {
    const { s, publish } = await betterSse();
    const es = new EventSource(s.origin);
    const got: string[] = [];
    es.onmessage = (e) => got.push(e.data);
    await until(() => es.readyState === EventSource.OPEN, 'open');
    await publishAll(s, publish);
    await until(() => got.length >= TOTAL, `${TOTAL} events`, 15_000);
    es.close();
    expect(got).toEqual(expected);
    const resumed = s.requests.slice(1).map((r) => header(r, 'last-event-id'));
    expect(resumed.length).toBeGreaterThanOrEqual(DROP_AT.length);
    expect(resumed.every((id) => id !== '')).toBe(true);
  });
});

describe('ssekit SSEServer', () => {
  async function ssekit() {
    const sse = new SSEServer({ retryMs: 10, keepAliveMs: 0 });
    sse.createStream('feed');
    const s = await loopback(sse.handler);
    servers.push(s);
    return { sse, s };
  }

  test('SSEClient: every event once, in order, across forced disconnects', async () => {
    const { sse, s } = await ssekit();
    try {
      const got = await collectWithClient(`${s.origin}/events`, 'feed', () =>
        publishAll(s, (i) => sse.publish('feed', { data: `m${i}` })),
      );
      expect(got.map((e) => e.data)).toEqual(expected);
      expect(got.every((e) => e.event === 'message')).toBe(true);
      expect(new Set(got.map((e) => e.id)).size).toBe(TOTAL);
      expect(s.requests.length).toBeGreaterThanOrEqual(1 + DROP_AT.length);
    } finally {
      await sse.close();
    }
  });

  test('EventSource: every event once, in order, across forced disconnects', async () => {
    const { sse, s } = await ssekit();
    try {
      const es = new EventSource(`${s.origin}/events?stream=feed`);
      const got: string[] = [];
      es.onmessage = (e) => got.push(e.data);
      await until(() => es.readyState === EventSource.OPEN, 'open');
      await publishAll(s, (i) => sse.publish('feed', { data: `m${i}` }));
      await until(() => got.length >= TOTAL, `${TOTAL} events`, 15_000);
      es.close();
      expect(got).toEqual(expected);
      const resumed = s.requests.slice(1).map((r) => header(r, 'last-event-id'));
      expect(resumed.length).toBeGreaterThanOrEqual(DROP_AT.length);
      expect(resumed.every((id) => id !== '')).toBe(true);
    } finally {
      await sse.close();
    }
  });
});
