/**
 * ssekit on plain node:http.
 *
 *   npx tsx examples/node-http/server.ts
 *   curl -N 'http://127.0.0.1:3000/events?stream=clock'
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSEServer } from 'ssekit/server';

const sse = new SSEServer();
sse.createStream('clock');

const server = http.createServer((req, res) => {
  if (req.url?.startsWith('/events')) return sse.handler(req, res);
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Try /events?stream=clock\n');
});

// Every event gets an id, so a client that reconnects with Last-Event-ID misses nothing.
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
    await sse.close(); // ends every subscriber's response cleanly
    server.close();
  });
}
