/**
 * Helpers for the server's transport, client and fault tests: real servers on 127.0.0.1, real
 * sockets, and readers that collect every event so a test can assert the whole ordered list.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import zlib from 'node:zlib';
import { EventParser, type SSEEvent } from 'ssekit/protocol';

export type { SSEEvent };

export interface Listening {
  port: number;
  origin: string;
  /** Cut every open connection, as a crash or a proxy restart would; the listener stays. */
  cut(): void;
  close(): Promise<void>;
}

/** Listen on an ephemeral loopback port; `close` also cuts open connections (SSE never ends). */
export async function listen(server: NetServer, port = 0): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  // http2 secure servers announce TLS sockets on 'secureConnection' too; 'connection' sees the raw one.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    origin: `http://127.0.0.1:${actual}`,
    cut() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server that can be stopped and started again on the same port. */
export async function restartable(
  handler: http.RequestListener,
): Promise<Listening & { restart(whileDown?: () => Promise<void>): Promise<void> }> {
  let current = await listen(http.createServer(handler));
  const { port, origin } = current;
  return {
    port,
    origin,
    cut: () => current.cut(),
    close: () => current.close(),
    async restart(whileDown) {
      await current.close();
      await whileDown?.();
      current = await listen(http.createServer(handler), port);
    },
  };
}

/**
 * Poll until `check` holds; fails the test after `timeoutMs` with `what`. Never a timing
 * assertion: the bound only keeps a broken test from hanging. `refresh` runs before each check.
 */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 5000,
  refresh?: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await refresh?.();
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, refresh ? 25 : 5));
  }
}

/** Collects the events and comments of one event stream, fed with its bytes. */
export class EventLog {
  readonly events: SSEEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  /** The response ended properly (the last chunk arrived), not by a cut connection. */
  complete = false;
  private readonly parser = new EventParser({
    onEvent: (e) => {
      this.events.push(e);
      this.wake();
    },
    onComment: (c) => this.comments.push(c),
  });
  private waiters = new Set<() => void>();

  feed(chunk: Uint8Array | string): void {
    this.parser.feed(chunk);
  }

  end(complete = false): void {
    if (this.ended) return;
    this.ended = true;
    this.complete = complete;
    this.wake();
  }

  /** Resolves with the first `n` events once they are here; rejects if the stream ends first. */
  async take(n: number, timeoutMs = 5000): Promise<SSEEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (this.ended) {
        throw new Error(`stream ended after ${this.events.length} of ${n} events`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.events.length} of ${n} events`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    return this.events.slice(0, n);
  }

  /** Resolves when the stream has ended. */
  async closed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.ended, 'the event stream to end', timeoutMs);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const w of waiters) w();
  }
}

/** An open event stream over HTTP/1.1. */
export interface OpenStream {
  status: number;
  headers: IncomingHttpHeaders;
  log: EventLog;
  /** The client goes away: the socket is destroyed. */
  close(): void;
}

/** GET an event stream with node:http; resolves once the response headers are in. */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const log = new EventLog();
      const gzip = res.headers['content-encoding'] === 'gzip';
      const body = gzip ? res.pipe(zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH })) : res;
      body.on('data', (chunk: Buffer) => log.feed(chunk));
      body.on('end', () => log.end(true));
      body.on('error', () => log.end());
      res.on('close', () => log.end());
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        log,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

/** A whole (non-streaming) reply. */
export interface TextReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Any request whose reply ends: errors, HEAD, preflight. */
export function fetchText(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<TextReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Event data as the tests publish it: some multi-line, some non-ASCII, each distinct. */
export function sampleData(i: number): string {
  if (i % 7 === 3) return `line one of ${i}\nline two of ${i}`;
  if (i % 7 === 5) return `émoji ${i} 🚀 ✓`;
  return `event ${i}`;
}

/** The timers, sockets and handles the process holds, by kind (for leak checks). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * A request written byte for byte on a raw TCP socket, for what node:http clients refuse to send
 * (non-UTF-8 header bytes) or to control reading (pause it to play a client that never reads).
 * The chunked response body is decoded and fed to `log`.
 */
export function rawRequest(port: number, head: Buffer | string) {
  const socket = net.connect(port, '127.0.0.1');
  const log = new EventLog();
  let buffered = Buffer.alloc(0);
  let status = 0;
  let headers = '';
  let inBody = false;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (!inBody) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      headers = buffered.subarray(0, end).toString('latin1');
      status = Number(headers.split(' ')[1]);
      buffered = buffered.subarray(end + 4);
      inBody = true;
    }
    // Chunked transfer coding: "<hex size>\r\n<bytes>\r\n", a 0 size ends the body.
    for (;;) {
      const line = buffered.indexOf('\r\n');
      if (line === -1) return;
      const size = Number.parseInt(buffered.subarray(0, line).toString('latin1'), 16);
      if (size === 0) return log.end(true);
      if (buffered.length < line + 2 + size + 2) return;
      log.feed(buffered.subarray(line + 2, line + 2 + size));
      buffered = buffered.subarray(line + 2 + size + 2);
    }
  });
  socket.on('close', () => log.end());
  socket.on('error', () => {});
  socket.write(head);
  return {
    socket,
    log,
    status: () => status,
    headers: () => headers,
  };
}
