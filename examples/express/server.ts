/**
 * ssekit in an Express 5 app, behind the compression middleware.
 *
 *   npx tsx examples/express/server.ts
 *   curl -N 'http://127.0.0.1:3000/events?stream=chat'
 *   curl -X POST -H 'Content-Type: text/plain' --data 'hello' 'http://127.0.0.1:3000/messages'
 */

import type { AddressInfo } from 'node:net';
import compression from 'compression';
import express from 'express';
import { SSEServer } from 'ssekit/server';

const sse = new SSEServer({ retryMs: 2000 });
sse.createStream('chat');

const app = express();
// Events still go out at once: the handler calls res.flush(), which compression adds.
app.use(compression());
app.get('/events', sse.handler);
app.post('/messages', express.text(), async (req, res) => {
  const id = await sse.publish('chat', { event: 'message', data: String(req.body) });
  res.status(202).json({ id });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}/events?stream=chat`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await sse.close();
    server.close();
  });
}
