import http from 'node:http';
import { SSEServer, type UnsubscribeInfo } from 'ssekit/server';
import { afterEach, expect, it } from 'vitest';
import { type Listening, listen, openStream, rawRequest, waitFor } from '../loopback.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function serve(options: ConstructorParameters<typeof SSEServer>[0]) {
  const unsubscribed: { stream: string; info: UnsubscribeInfo }[] = [];
  const sse = new SSEServer({
    keepAliveMs: 0,
    ...options,
    onUnsubscribe: (stream, info) => unsubscribed.push({ stream, info }),
  });
  const l: Listening = await listen(http.createServer(sse.handler));
  cleanup.push(l.close, () => sse.close());
  return { sse, l, unsubscribed };
}

it('cuts a subscriber that never reads, while another keeps receiving everything', async () => {
  const { sse, l, unsubscribed } = await serve({
    maxQueuedBytes: 256 * 1024,
    history: { maxEvents: 8 },
  });
  const stream = sse.createStream('firehose');
  const healthy = await openStream(`${l.origin}/?stream=firehose`);
  cleanup.push(() => healthy.close());
  const slow = rawRequest(l.port, 'GET /?stream=firehose HTTP/1.1\r\nHost: x\r\n\r\n');
  slow.socket.pause(); // reads nothing from here on
  cleanup.push(() => void slow.socket.destroy());
  await waitFor(() => stream.subscriberCount === 2, 'both subscribers');

  // 64 KiB events, each published once the healthy client has the previous one, until the
  // paused socket's kernel buffers are full and the server's queue for it passes the limit.
  const expected: { id: string; event: string; data: string }[] = [];
  for (let i = 0; i < 1000 && unsubscribed.length === 0; i++) {
    const data = `${i} ${String(i % 10).repeat(64 * 1024)}`;
    expected.push({ id: await sse.publish('firehose', data), event: 'message', data });
    await healthy.log.take(expected.length, 10_000);
  }
  expect(unsubscribed.map((u) => [u.stream, u.info.reason])).toEqual([
    ['firehose', 'slow-subscriber'],
  ]);
  expect(stream.subscriberCount).toBe(1);

  // The healthy one never waited for it and goes on.
  for (let i = 0; i < 3; i++) {
    expected.push({
      id: await sse.publish('firehose', `after ${i}`),
      event: 'message',
      data: `after ${i}`,
    });
  }
  expect(await healthy.log.take(expected.length)).toEqual(expected);

  // The slow one's connection was cut, not ended: when it reads again it finds no clean end.
  slow.socket.resume();
  await slow.log.closed(10_000);
  expect(slow.log.complete).toBe(false);
  expect(slow.log.events.length).toBeLessThan(expected.length);
  expect(slow.log.events).toEqual(expected.slice(0, slow.log.events.length));
});

it('a client that disconnects in the middle of a large replay is let go; the next one gets it all', async () => {
  const { sse, l, unsubscribed } = await serve({ history: { maxEvents: 2000 } });
  sse.createStream('big');
  const stream = sse.createStream('big');
  const history = [];
  for (let i = 0; i < 2000; i++) {
    const data = `${i}:${'r'.repeat(400)}`;
    history.push({ id: await sse.publish('big', data), event: 'message', data });
  }
  const from = history[0]!.id;

  // Reads the first bytes of the replay, then goes away.
  const quitter = rawRequest(
    l.port,
    `GET /?stream=big HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${from}\r\n\r\n`,
  );
  await quitter.log.take(1);
  quitter.socket.destroy();
  await waitFor(() => unsubscribed.length === 1, 'onUnsubscribe');
  expect(unsubscribed[0]!.info.reason).toBe('client-closed');
  expect(unsubscribed[0]!.info.lastEventId).toBe(from);
  expect(stream.subscriberCount).toBe(0);

  // The stream is unharmed: a reader gets every later event once, in order, then live ones.
  const reader = await openStream(`${l.origin}/?stream=big`, { 'Last-Event-ID': from });
  cleanup.push(() => reader.close());
  const live = { id: await sse.publish('big', 'live'), event: 'message', data: 'live' };
  expect(await reader.log.take(2000, 15_000)).toEqual([...history.slice(1), live]);
});

it('a replay larger than maxQueuedBytes reaches a client that reads it', async () => {
  const { sse, l, unsubscribed } = await serve({ maxQueuedBytes: 256 * 1024 });
  sse.createStream('backlog');
  const history = [];
  for (let i = 0; i < 1000; i++) {
    const data = `${i}:${'b'.repeat(2000)}`;
    history.push({ id: await sse.publish('backlog', data), event: 'message', data });
  }
  // 2 MB of history, eight times the per-subscriber limit.
  const reader = await openStream(`${l.origin}/?stream=backlog`, {
    'Last-Event-ID': history[0]!.id,
  });
  cleanup.push(() => reader.close());
  const live = { id: await sse.publish('backlog', 'live'), event: 'message', data: 'live' };
  expect(await reader.log.take(1000, 15_000)).toEqual([...history.slice(1), live]);
  expect(unsubscribed).toEqual([]);
});
