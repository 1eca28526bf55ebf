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

  it('resumes after the last event handed out, not after events dropped by the abort', async () => {
    const lastIds: string[] = [];
    const http = await serve((req, res) => {
      lastIds.push(String(req.headers['last-event-id'] ?? ''));
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n'); // one chunk
    });
    cleanup.push(() => http.close());
    const client = new SSEClient(http.url);
    const seen: string[] = [];
    for (let round = 0; round < 2; round++) {
      const controller = new AbortController();
      await client.subscribeRaw(
        (e: SSEEvent) => {
          seen.push(e.id);
          controller.abort();
        },
        { signal: controller.signal },
      );
    }
    expect(seen).toEqual(['1', '1']);
    expect(client.lastEventId).toBe('1');
    expect(lastIds).toEqual(['', '1']); // events 2 and 3 were never handed out: ask for them again
  });

  it('a Retry-After of 0 again and again gets no hot loop: 0 the first time, then growing', async () => {
    const times: number[] = [];
    const http = await serve((_req, res) => {
      times.push(performance.now());
      res.writeHead(503, { 'Retry-After': '0' });
      res.end('busy');
    });
    cleanup.push(() => http.close());
    const client = new SSEClient(http.url, {
      reconnect: { initialDelayMs: 60_000, multiplier: 2, jitter: 0, maxRetries: 3 },
    });
    const error = await client.subscribeRaw(() => {}).catch((e: Error & { code: string }) => e);
    expect((error as { code: string }).code).toBe('MAX_RETRIES');
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeLessThan(30_000); // not the minute of backoff: the server said now
    expect(gaps[1]).toBeGreaterThanOrEqual(198); // then 200, 400 ms: never a hot loop
    expect(gaps[2]).toBeGreaterThanOrEqual(398);
  });

  it('a Retry-After that is neither seconds nor an HTTP-date is ignored, not read as "now"', async () => {
    // Date.parse takes "1.5", "+5" or "-1" for dates in 2001: a delay of 0, every time.
    const times: number[] = [];
    const values = ['1.5', '-1', '+5'];
    const http = await serve((_req, res) => {
      res.writeHead(503, { 'Retry-After': values[times.length] ?? '1.5' });
      times.push(performance.now());
      res.end('busy');
    });
    cleanup.push(() => http.close());
    const client = new SSEClient(http.url, {
      reconnect: { initialDelayMs: 200, multiplier: 1, jitter: 0, maxRetries: 3 },
    });
    const error = await client.subscribeRaw(() => {}).catch((e: Error & { code: string }) => e);
    expect((error as { code: string }).code).toBe('MAX_RETRIES');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toHaveLength(3);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(198); // the backoff's own delay
  });

  it('waits the Retry-After the server asked for, even past maxDelayMs', async () => {
    let requests = 0;
    const times: number[] = [];
    const http = await serve((_req, res) => {
      requests++;
      times.push(Date.now());
      if (requests === 1) {
        res.writeHead(503, { 'Retry-After': '1' });
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
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(990);
  });
});
