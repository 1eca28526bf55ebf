/**
 * ssekit in a Hono app through `server.fetch`, served on Node by @hono/node-server.
 * The same route works on Bun, Deno and workers: it only needs a Request and returns a Response.
 *
 *   npx tsx examples/hono/server.ts
 *   curl -N 'http://127.0.0.1:3000/events?stream=clock'
 */

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { SSEServer } from 'ssekit/server';

const sse = new SSEServer();
sse.createStream('clock');

const app = new Hono();
app.get('/events', (c) => sse.fetch(c.req.raw));

const tick = setInterval(
  () => void sse.publish('clock', new Date().toISOString()),
  Number(process.env.TICK_MS ?? 1000),
);

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' },
  (info: AddressInfo) => {
    console.log(`listening on http://127.0.0.1:${info.port}/events?stream=clock`);
  },
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    clearInterval(tick);
    await sse.close();
    server.close();
  });
}
