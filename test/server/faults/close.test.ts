import http from 'node:http';
import { SSEServer, type UnsubscribeReason } from 'ssekit/server';
import { expect, it } from 'vitest';
import { fetchText, listen, openStream, waitFor } from '../loopback.js';

it('publish during close() rejects with SERVER_CLOSED, and close() ends every subscriber cleanly', async () => {
  const reasons: UnsubscribeReason[] = [];
  const sse = new SSEServer({ onUnsubscribe: (_s, { reason }) => reasons.push(reason) });
  const streams = ['a', 'b'].map((id) => sse.createStream(id));
  const l = await listen(http.createServer(sse.handler));
  try {
    const clients = [];
    for (const id of ['a', 'a', 'b']) clients.push(await openStream(`${l.origin}/?stream=${id}`));
    await waitFor(
      () => streams[0]!.subscriberCount === 2 && streams[1]!.subscriberCount === 1,
      'subscribers',
    );
    const ids = [await sse.publish('a', 'to a'), await sse.publish('b', 'to b')];

    const closing = sse.close();
    // The same call, made while close() is under way and after it finished.
    const during = sse.publish('a', 'too late');
    await expect(during).rejects.toMatchObject({
      code: 'SERVER_CLOSED',
      name: 'ServerClosedError',
    });
    expect(sse.tryPublish('a', 'too late')).toBe(false);
    expect(() => sse.createStream('c')).toThrow(expect.objectContaining({ code: 'SERVER_CLOSED' }));
    await closing;
    await expect(sse.publish('b', 'later still')).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
    await expect(sse.close()).resolves.toBeUndefined(); // closing twice is harmless

    // Every response ended properly (the final chunk arrived), after the events published before.
    for (const c of clients) await c.log.closed();
    expect(clients.map((c) => [c.log.complete, c.log.events])).toEqual([
      [true, [{ id: ids[0], event: 'message', data: 'to a' }]],
      [true, [{ id: ids[0], event: 'message', data: 'to a' }]],
      [true, [{ id: ids[1], event: 'message', data: 'to b' }]],
    ]);
    expect(reasons).toEqual(['server-closed', 'server-closed', 'server-closed']);
    expect(streams.map((s) => s.subscriberCount)).toEqual([0, 0]);

    // A request after close() is told to come back, not left hanging.
    const late = await fetchText(`${l.origin}/?stream=a`);
    expect(late.status).toBe(503);
    expect(late.headers['content-type']).toMatch(/^text\/plain/);
  } finally {
    await l.close();
  }
});

it('events accepted just before close() still reach subscribers before their stream ends', async () => {
  const sse = new SSEServer({ keepAliveMs: 0 });
  const stream = sse.createStream('s');
  const l = await listen(http.createServer(sse.handler));
  try {
    const c = await openStream(`${l.origin}/?stream=s`);
    await waitFor(() => stream.subscriberCount === 1, 'the subscriber');
    // Not awaited: accepted synchronously by the memory broker, then close() at once.
    const accepted = [sse.publish('s', 'one'), sse.publish('s', 'two')];
    await sse.close();
    const ids = await Promise.all(accepted);
    await c.log.closed();
    expect(c.log.complete).toBe(true);
    expect(c.log.events).toEqual([
      { id: ids[0], event: 'message', data: 'one' },
      { id: ids[1], event: 'message', data: 'two' },
    ]);
  } finally {
    await l.close();
  }
});
