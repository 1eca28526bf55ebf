import http from 'node:http';
import { SSEServer } from 'ssekit/server';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, openStream, waitFor } from '../loopback.js';
import { transportSuite } from './suite.js';

transportSuite('node:http', {
  async mount(sse) {
    const server = http.createServer(sse.handler);
    const l = await listen(server);
    return { url: `${l.origin}/events`, close: l.close };
  },
});

describe('node:http', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  it('sends keep-alive comments and the retry field', async () => {
    const sse = new SSEServer({ keepAliveMs: 20, retryMs: 1234 });
    sse.createStream('idle');
    const l = await listen(http.createServer(sse.handler));
    cleanup.push(l.close, () => sse.close());
    const s = await openStream(`${l.origin}/?stream=idle`);
    cleanup.push(async () => s.close());
    await waitFor(() => s.log.comments.length >= 2, 'two keep-alive comments');
    expect(s.log.comments.slice(0, 2)).toEqual(['', '']);
    const id = await sse.publish('idle', 'after the comments');
    // The retry field sets the client's reconnection time; it is not an event by itself.
    expect(await s.log.take(1)).toEqual([{ id, event: 'message', data: 'after the comments' }]);
  });
});
