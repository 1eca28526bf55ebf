/**
 * One scenario for every client nobody here wrote: events of every shape arrive complete and in
 * order; the server cuts the connection, then restarts on the same port while events are
 * published; the client reconnects with Last-Event-ID and ends with every event exactly once.
 */
import { SSEServer } from 'ssekit/server';
import { expect } from 'vitest';
import { restartable, sampleData, waitFor } from '../loopback.js';

export interface Received {
  id: string;
  event: string;
  data: string;
}

export interface ClientUnderTest {
  /** Every event received so far, in order. */
  received(): Promise<Received[]> | Received[];
  close(): Promise<void> | void;
}

/** Serves the stream at /events and, for browsers, a blank same-origin page at /. */
export async function reconnectScenario(
  start: (origin: string, url: string) => Promise<ClientUnderTest>,
): Promise<void> {
  const sse = new SSEServer({ retryMs: 50, keepAliveMs: 0 });
  const stream = sse.createStream('feed');
  const server = await restartable((req, res) => {
    if (req.url?.startsWith('/events')) return sse.handler(req, res);
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>ssekit</title>');
  });
  const expected: Received[] = [];
  const publish = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const event = i % 3 === 1 ? 'update' : 'message';
      // One event far larger than any socket or parser buffer.
      const data = i === 2 ? `big ${'0123456789'.repeat(20_000)} end` : sampleData(i);
      const id = await sse.publish('feed', { event, data });
      expected.push({ id, event, data });
    }
  };
  let client: ClientUnderTest | undefined;
  const arrived = async (n: number, what: string) => {
    let got: Received[] = [];
    await waitFor(
      () => got.length >= n,
      `${n} events ${what}`,
      15_000,
      async () => {
        got = await client!.received();
      },
    );
    expect(got).toEqual(expected.slice(0, n));
  };
  try {
    client = await start(server.origin, `${server.origin}/events?stream=feed`);
    await waitFor(() => stream.subscriberCount === 1, 'the client to connect', 15_000);
    await publish(0, 8);
    await arrived(8, 'live');

    // The connection drops under the client; events go on being published meanwhile.
    server.cut();
    await publish(8, 12);
    await arrived(12, 'after the connection was cut');

    // The server process "restarts" on the same port, the SSEServer (and its history) kept.
    await server.restart(() => publish(12, 16));
    await arrived(16, 'after the server restarted');

    await waitFor(() => stream.subscriberCount === 1, 'one subscriber again');
    await publish(16, 20);
    await arrived(20, 'live after reconnecting');
    // Nothing extra trails behind: the full list, each once, in order.
    expect(await client.received()).toEqual(expected);
  } finally {
    await client?.close();
    await sse.close();
    await server.close();
  }
}
