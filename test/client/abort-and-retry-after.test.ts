import { SSEClient, type SSEEvent } from 'ssekit/client';
import { afterEach, describe, expect, it } from 'vitest';
import { serve } from '../support/http.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

describe('SSEClient edges', () => {
  it('hands out no event after its signal aborts, even from the same chunk', async () => {
    const http = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: a\n\ndata: b\n\ndata: c\n\n'); // one chunk, three events
    });
    cleanup.push(() => http.close());
    const seen: string[] = [];
    const controller = new AbortController();
    await new SSEClient(http.url).subscribeRaw(
      (e: SSEEvent) => {
        seen.push(e.data);
        controller.abort();
      },
      { signal: controller.signal },
    );
    expect(seen).toEqual(['a']);
  });

  it('waits no longer than maxDelayMs when Retry-After asks for ten minutes', async () => {
    let requests = 0;
    const http = await serve((_req, res) => {
      requests++;
      if (requests === 1) {
        res.writeHead(503, { 'Retry-After': '600' });
        res.end('busy');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: after the wait\n\n');
    });
    cleanup.push(() => http.close());
    const controller = new AbortController();
    const seen: string[] = [];
    await new SSEClient(http.url, {
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    }).subscribeRaw(
      (e) => {
        seen.push(e.data);
        controller.abort();
      },
      { signal: controller.signal },
    );
    expect(seen).toEqual(['after the wait']);
    expect(requests).toBe(2);
  });
});
