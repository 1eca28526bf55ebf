import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventParser, type SSEEvent } from 'ssekit/protocol';

/** A node:http server on a free loopback port. */
export async function serve(
  handler: RequestListener,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw subscriber: fetch plus EventParser, recording every event and comment in order. */
export interface Subscription {
  response: Response;
  events: SSEEvent[];
  comments: string[];
  /** Resolves once `n` events have arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<SSEEvent[]>;
  /** Resolves when the server ends the response. */
  ended: Promise<void>;
  close(): void;
}

export async function subscribe(
  url: string,
  headers: Record<string, string> = {},
): Promise<Subscription> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: SSEEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const parser = new EventParser({
    onEvent(e) {
      events.push(e);
      for (const w of waiters) w();
    },
    onComment: (c) => comments.push(c),
  });
  const ended = (async () => {
    if (!response.body) return;
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    response,
    events,
    comments,
    ended,
    close: () => abort.abort(),
    waitFor(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (events.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(events.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`expected ${n} events, got ${events.length}: ${JSON.stringify(events)}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
