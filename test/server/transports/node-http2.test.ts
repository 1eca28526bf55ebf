import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSEServer, type UnsubscribeInfo } from 'ssekit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog, listen, type OpenStream, type TextReply, waitFor } from '../loopback.js';
import { type Client, expectEventStreamHeaders, transportSuite } from './suite.js';

/** A client that sends every request on one HTTP/2 session, as browsers do. */
function h2Client(connectOptions: http2.SecureClientSessionOptions = {}): Client & {
  sessions: ClientHttp2Session[];
} {
  const sessions: ClientHttp2Session[] = [];
  const byOrigin = new Map<string, ClientHttp2Session>();
  const session = (origin: string): ClientHttp2Session => {
    const existing = byOrigin.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const s = http2.connect(origin, connectOptions);
    s.on('error', () => {});
    sessions.push(s);
    byOrigin.set(origin, s);
    return s;
  };
  const request = (url: string, method: string, headers: Record<string, string>) => {
    const u = new URL(url);
    return session(u.origin).request(
      { ':method': method, ':path': u.pathname + u.search, ...headers },
      {
        endStream: true,
      },
    );
  };
  return {
    sessions,
    open(url, headers = {}) {
      return new Promise<OpenStream>((resolve, reject) => {
        const req = request(url, 'GET', headers);
        req.on('error', reject);
        req.on('response', (h) => {
          const log = new EventLog();
          req.on('data', (c: Buffer) => log.feed(c));
          req.on('close', () => log.end());
          resolve({
            status: Number(h[':status']),
            headers: h as IncomingHttpHeaders as OpenStream['headers'],
            log,
            close: () => req.close(http2.constants.NGHTTP2_CANCEL),
          });
        });
      });
    },
    text(url, method = 'GET', headers = {}) {
      return new Promise<TextReply>((resolve, reject) => {
        const req = request(url, method, headers);
        const chunks: Buffer[] = [];
        let head: IncomingHttpHeaders = {};
        req.on('response', (h) => {
          head = h;
        });
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () =>
          resolve({
            status: Number(head[':status']),
            headers: head as TextReply['headers'],
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        req.on('error', reject);
      });
    },
  };
}

// A self-signed certificate for 127.0.0.1, made fresh for this run.
let tls: { key: Buffer; cert: Buffer };
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'ssekit-h2-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const cleartext = h2Client();
afterAll(() => {
  for (const s of cleartext.sessions) s.close();
});

transportSuite('node:http2 compatibility API, cleartext (h2c)', {
  client: cleartext,
  async mount(sse) {
    const server = http2.createServer(sse.handler);
    const l = await listen(server);
    return {
      url: `${l.origin}/events`,
      async close() {
        for (const s of cleartext.sessions) s.destroy();
        await l.close();
      },
    };
  },
});

const secureClient = h2Client({
  get ca() {
    return tls.cert;
  },
} as http2.SecureClientSessionOptions);
transportSuite('node:http2 secure server, h2 negotiated by ALPN', {
  client: {
    open: (url, h) => secureClient.open(url.replace('http:', 'https:'), h),
    text: (url, m, h) => secureClient.text(url.replace('http:', 'https:'), m, h),
  },
  async mount(sse) {
    const server = http2.createSecureServer({ ...tls, allowHTTP1: true }, sse.handler);
    const l = await listen(server);
    return {
      url: `${l.origin}/events`,
      async close() {
        for (const s of secureClient.sessions) s.destroy();
        await l.close();
      },
    };
  },
});

describe('node:http2', () => {
  it('negotiates h2 by ALPN and still serves HTTP/1.1 clients on the same port', async () => {
    const unsubscribed: UnsubscribeInfo[] = [];
    const sse = new SSEServer({
      keepAliveMs: 0,
      onUnsubscribe: (_s, info) => unsubscribed.push(info),
    });
    const stream = sse.createStream('mixed');
    const server = http2.createSecureServer({ ...tls, allowHTTP1: true }, sse.handler);
    const l = await listen(server);
    const origin = `https://127.0.0.1:${l.port}`;
    const client = h2Client({ ca: tls.cert });
    try {
      const h2 = await client.open(`${origin}/?stream=mixed`);
      expect(client.sessions[0]!.alpnProtocol).toBe('h2');
      expectEventStreamHeaders(h2.headers);
      // The 1.1 reply keeps `Connection: keep-alive`, which HTTP/2 forbids.
      const h1 = await new Promise<{ log: EventLog; alpn: string | false | null; close(): void }>(
        (resolve, reject) => {
          const req = https.get(
            `${origin}/?stream=mixed`,
            { ca: tls.cert, agent: false, ALPNProtocols: ['http/1.1'] } as https.RequestOptions,
            (res) => {
              expectEventStreamHeaders(res.headers);
              const log = new EventLog();
              res.on('data', (c: Buffer) => log.feed(c));
              res.on('close', () => log.end());
              const socket = res.socket as import('node:tls').TLSSocket;
              resolve({ log, alpn: socket.alpnProtocol, close: () => req.destroy() });
            },
          );
          req.on('error', reject);
        },
      );
      expect(h1.alpn).toBe('http/1.1');
      await waitFor(() => stream.subscriberCount === 2, 'both subscribers');
      const ids = [await sse.publish('mixed', 'one'), await sse.publish('mixed', 'two')];
      const expected = ids.map((id, i) => ({ id, event: 'message', data: ['one', 'two'][i] }));
      expect(await h2.log.take(2)).toEqual(expected);
      expect(await h1.log.take(2)).toEqual(expected);
      h2.close();
      h1.close();
      await waitFor(() => stream.subscriberCount === 0, 'both disconnects');
      expect(unsubscribed.map((u) => u.reason)).toEqual(['client-closed', 'client-closed']);
    } finally {
      for (const s of client.sessions) s.destroy();
      await sse.close();
      await l.close();
    }
  });

  it('sees a stream reset while the session stays open', async () => {
    const sse = new SSEServer({ keepAliveMs: 0 });
    const stream = sse.createStream('resets');
    const l = await listen(http2.createServer(sse.handler));
    const client = h2Client();
    try {
      for (let round = 0; round < 20; round++) {
        const s = await client.open(`${l.origin}/?stream=resets`);
        await waitFor(() => stream.subscriberCount === 1, 'the subscriber');
        s.close();
        await waitFor(() => stream.subscriberCount === 0, 'the reset to be seen');
      }
      expect(client.sessions).toHaveLength(1);
      expect(client.sessions[0]!.closed).toBe(false);
    } finally {
      for (const s of client.sessions) s.destroy();
      await sse.close();
      await l.close();
    }
  });
});
