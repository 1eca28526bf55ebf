import http from 'node:http';
import compression from 'compression';
import connect, { type ErrorHandleFunction, type NextHandleFunction } from 'connect';
import { SSEServer } from 'ssekit/server';
import { describe, expect, it } from 'vitest';
import { fetchText, listen } from '../loopback.js';
import { compressionSuite, transportSuite } from './suite.js';

transportSuite('Connect', {
  async mount(sse) {
    const app = connect();
    // Connect strips the mount path from req.url; the query the handler needs is kept.
    app.use('/events', sse.handler);
    const l = await listen(http.createServer(app));
    return { url: `${l.origin}/events`, close: l.close };
  },
});

compressionSuite('Connect', async (sse) => {
  const app = connect();
  // compression's types name Express; at run time it is plain Connect middleware.
  app.use(compression() as unknown as NextHandleFunction);
  app.use('/events', sse.handler);
  const l = await listen(http.createServer(app));
  return { url: `${l.origin}/events`, close: l.close };
});

describe('Connect', () => {
  it('hands an error while subscribing to next(err)', async () => {
    const sse = new SSEServer({
      keepAliveMs: 0,
      authorize: () => Promise.reject(new Error('auth backend down')),
    });
    sse.createStream('news');
    const seen: string[] = [];
    const app = connect();
    app.use('/events', sse.handler);
    // Connect tells error handlers by their four parameters.
    const onError: ErrorHandleFunction = (err, _req, res, _next) => {
      seen.push((err as Error).message);
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end('upstream');
    };
    app.use(onError);
    const l = await listen(http.createServer(app));
    try {
      const r = await fetchText(`${l.origin}/events?stream=news`);
      expect([r.status, r.body]).toEqual([502, 'upstream']);
      expect(seen).toEqual(['auth backend down']);
    } finally {
      await sse.close();
      await l.close();
    }
  });
});
