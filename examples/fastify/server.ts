/**
 * ssekit in a Fastify 5 app: the route hands the raw request and response to the handler.
 *
 *   npx tsx examples/fastify/server.ts
 *   curl -N 'http://127.0.0.1:3000/events?stream=clock'
 */

import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { SSEServer } from 'ssekit/server';

const sse = new SSEServer();
sse.createStream('clock');

// Event streams never go idle, so let app.close() cut them after sse.close() ended them.
const app = Fastify({ forceCloseConnections: true });
app.get('/events', (req, reply) => {
  reply.hijack(); // Fastify must not answer: ssekit streams the response
  sse.handler(req.raw, reply.raw);
});

const tick = setInterval(
  () => void sse.publish('clock', new Date().toISOString()),
  Number(process.env.TICK_MS ?? 1000),
);

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;
console.log(`listening on http://127.0.0.1:${port}/events?stream=clock`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    clearInterval(tick);
    await sse.close();
    await app.close();
  });
}
