import http from 'node:http';
import compression from 'compression';
import express, { type ErrorRequestHandler } from 'express';
import { SSEServer } from 'ssekit/server';
import { describe, expect, it } from 'vitest';
import { fetchText, listen, openStream, waitFor } from '../loopback.js';
import { compressionSuite, transportSuite } from './suite.js';

transportSuite('Express 5', {
  async mount(sse) {
    const app = express();
    app.all('/events', sse.handler);
    const l = await listen(http.createServer(app));
    return { url: `${l.origin}/events`, close: l.close };
  },
});

compressionSuite('Express 5', async (sse) => {
  const app = express();
  app.use(compression());
  app.get('/events', sse.handler);
  const l = await listen(http.createServer(app));
  return { url: `${l.origin}/events`, close: l.close };
});

describe('Express 5', () => {
  it('works mounted under a path prefix with a router', async () => {
    const sse = new SSEServer({ keepAliveMs: 0 });
    const stream = sse.createStream('room-1');
    const app = express();
    const router = express.Router();
    router.get('/stream', sse.handler);
    app.use('/api/v1', router);
    const l = await listen(http.createServer(app));
    try {
      const s = await openStream(`${l.origin}/api/v1/stream?stream=room-1`);
      await waitFor(() => stream.subscriberCount === 1, 'the subscriber');
      const id = await sse.publish('room-1', 'hi');
      expect(await s.log.take(1)).toEqual([{ id, event: 'message', data: 'hi' }]);
      s.close();
      await waitFor(() => stream.subscriberCount === 0, 'the disconnect');
    } finally {
      await sse.close();
      await l.close();
    }
  });

  it('passes an error from authorize to next(), so the app error handler answers', async () => {
    const sse = new SSEServer({
      keepAliveMs: 0,
      authorize: () => {
        throw new Error('token store unreachable');
      },
    });
    sse.createStream('news');
    const seen: string[] = [];
    const app = express();
    app.get('/events', sse.handler);
    const onError: ErrorRequestHandler = (err, _req, res, _next) => {
      seen.push((err as Error).message);
      res.status(503).type('text/plain').send('try later');
    };
    app.use(onError);
    const l = await listen(http.createServer(app));
    try {
      const r = await fetchText(`${l.origin}/events?stream=news`);
      expect(r.status).toBe(503);
      expect(r.body).toBe('try later');
      expect(seen).toEqual(['token store unreachable']);
    } finally {
      await sse.close();
      await l.close();
    }
  });
});
