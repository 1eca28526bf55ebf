/**
 * The Next.js route handler in app/events/route.ts, served without Next.js for a quick try.
 * In a Next.js app, copy lib/sse.ts and app/events/route.ts and run `next dev` instead.
 *
 *   npx tsx examples/nextjs-route/server.ts
 *   curl -N 'http://127.0.0.1:3000/events?stream=clock'
 */
import type { AddressInfo } from 'node:net';
import * as route from './app/events/route.js';
import { sse } from './lib/sse.js';
import { serveRoute } from './serve-route.js';

const server = serveRoute('/events', { GET: route.GET });

const tick = setInterval(
  () => void sse.publish('clock', new Date().toISOString()),
  Number(process.env.TICK_MS ?? 1000),
);

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}/events?stream=clock`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    clearInterval(tick);
    await sse.close();
    server.close();
  });
}
