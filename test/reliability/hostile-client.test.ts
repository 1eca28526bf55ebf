/**
 * SSEClient against a loopback server that answers text/event-stream with random bytes: the
 * subscription ends in a documented way (resolves, or rejects with an SSEClientError whose code
 * says why), hands out exactly what the parser makes of those bytes, and holds bounded memory.
 */
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { SSEClient, SSEClientError } from 'ssekit/client';
import { EventParser, type SSEEvent } from 'ssekit/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../support/http.js';

let body: Uint8Array[] = [];
let server: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  server = await serve((req, res) => {
    if (req.url?.startsWith('/endless')) {
      // Bytes without a line end, forever (until the client goes away).
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
      };
      res.on('drain', pump);
      pump();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    for (const c of body) res.write(c);
    res.end();
  });
});
afterAll(() => server.close());

const utf8 = new TextEncoder();
const piece = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc
    .constantFrom('data: a\n\n', 'id: 7\n', 'retry: 5\n', 'event: x\n', ':\n', '\r\n', '\n\n', '\r')
    .map((s) => utf8.encode(s)),
  fc.string({ maxLength: 20 }).map((s) => utf8.encode(s)),
);
const chunks = fc.array(piece, { maxLength: 30 });

function expected(all: Uint8Array[], maxEventSize: number) {
  const events: SSEEvent[] = [];
  const parser = new EventParser({ onEvent: (e) => events.push(e) }, { maxEventSize });
  try {
    for (const c of all) parser.feed(c);
    return { events, tooLarge: false };
  } catch {
    return { events, tooLarge: true };
  }
}

describe('SSEClient reading random bytes from a server', () => {
  it('resolves, or rejects only with EVENT_TOO_LARGE, and delivers what the parser makes of them', async () => {
    const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/random`;
    await fc.assert(
      fc.asyncProperty(chunks, fc.integer({ min: 4, max: 200 }), async (parts, maxEventSize) => {
        body = parts;
        const got: SSEEvent[] = [];
        const client = new SSEClient(url, { reconnect: false, maxEventSize });
        let error: unknown;
        try {
          await client.subscribeRaw((e) => got.push(e));
        } catch (err) {
          error = err;
        }
        const want = expected(parts, maxEventSize);
        if (want.tooLarge) {
          expect(error).toBeInstanceOf(SSEClientError);
          expect((error as SSEClientError).code).toBe('EVENT_TOO_LARGE');
        } else {
          expect(error).toBeUndefined();
        }
        expect(got).toEqual(want.events);
      }),
      { numRuns: 150 },
    );
  });

  it('stops an endless event at maxEventSize with bounded memory, whatever the server sends', async () => {
    const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/endless`;
    const before = process.memoryUsage().heapUsed;
    const client = new SSEClient(url, { maxEventSize: 1024 * 1024 });
    const error = await client
      .subscribeRaw(() => {})
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(SSEClientError);
    expect((error as SSEClientError).code).toBe('EVENT_TOO_LARGE');
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 1024 * 1024);
  });
});
