import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Loopback {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  server: Server;
  /**
   * Open sockets that have carried a request. (undici may open a spare socket after one it used is
   * destroyed; it carries nothing and closes by itself, so it is not counted.)
   */
  sockets: Set<Socket>;
  /** Every request received, in order. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** A node:http server on a loopback port (0: any free one) that records requests and sockets. */
export async function loopback(handler: RequestListener, port = 0): Promise<Loopback> {
  const sockets = new Set<Socket>();
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const s = req.socket;
    if (!sockets.has(s) && !s.destroyed) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    handler(req, res);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${actual}`,
    port: actual,
    server,
    sockets,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Start an event-stream response. */
export function startStream(res: ServerResponse, status = 200, type = 'text/event-stream'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** Poll `check` every few ms until it is true; throws with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(5);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The request's header as one string ('' when absent), its bytes read as UTF-8. */
export function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name.toLowerCase()];
  const text = Array.isArray(v) ? v.join(', ') : (v ?? '');
  // Node reads header bytes as latin1; a client sends Last-Event-ID as UTF-8.
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** A promise with its resolve function outside, to wait for one thing a callback sees. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
