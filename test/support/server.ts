import { type ServerOptions, SSEServer } from 'ssekit/server';
import { afterEach } from 'vitest';
import { serve } from './http.js';

const open: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** Close `fn`'s resource after the current test, after whatever was opened later. */
export function closeAfterTest(fn: () => Promise<void> | void): void {
  open.push(fn);
}

/**
 * An SSEServer (keep-alives off) on a node:http server on a free loopback port, both closed
 * after the test. `url` is its subscribe URL without the stream.
 */
export async function startServer(options: ServerOptions = {}) {
  const sse = new SSEServer({ keepAliveMs: 0, ...options });
  const http = await serve(sse.handler);
  closeAfterTest(() => http.close());
  closeAfterTest(() => sse.close());
  return { sse, http, url: `${http.url}/events` };
}
