// The browser bundle of ssekit/client in a real headless Chromium: it subscribes with a custom
// header, receives events, survives a server restart on the same port and resumes with
// Last-Event-ID — SSEClient and EventSource side by side, with no polyfills.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browserBuild } from '../support/bundle.js';
import { chromiumArgs, chromiumPath, requireTool } from '../support/env.js';
import { header, type Loopback, loopback, until } from './helpers.js';

const run = requireTool('chromium', chromiumPath !== undefined);

const PAGE = `<!doctype html><meta charset="utf-8"><title>ssekit client</title>
<script type="module">
  import { SSEClient, EventSource } from '/ssekit-client.js';
  window.got = { client: [], es: [], esErrors: 0, failures: [] };
  let token = 0;
  const client = new SSEClient('/events', {
    headers: () => ({ 'x-custom': 'from the page', 'x-token': String(++token) }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  client.subscribe('feed', (e) => window.got.client.push(e.id + ' ' + e.data))
    .catch((e) => window.got.failures.push(e.code || String(e)));
  const es = new EventSource('/events?stream=feed&via=es', { headers: { 'x-custom': 'from EventSource' } });
  es.onmessage = (e) => window.got.es.push(e.lastEventId + ' ' + e.data + ' ' + (e.origin === location.origin));
  es.onerror = () => window.got.esErrors++;
  window.ready = true;
</script>`;

/** The event-stream side: every open response, and the events published so far (for replay). */
class Feed {
  readonly log: { via: string; custom: string; token: string; lastEventId: string }[] = [];
  private readonly history: { id: number; data: string }[] = [];
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly bundle: Uint8Array) {}

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    if (url.pathname === '/ssekit-client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(this.bundle);
      return;
    }
    if (url.pathname !== '/events') {
      res.writeHead(404);
      res.end();
      return;
    }
    const lastEventId = header(req, 'last-event-id');
    this.log.push({
      via: url.searchParams.get('via') ?? 'client',
      custom: header(req, 'x-custom'),
      token: header(req, 'x-token'),
      lastEventId,
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('retry: 100\n\n');
    const from = lastEventId === '' ? 0 : Number(lastEventId);
    for (const e of this.history) if (e.id > from) res.write(`id: ${e.id}\ndata: ${e.data}\n\n`);
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
  };

  get subscribers(): number {
    return this.open.size;
  }

  publish(data: string): void {
    const id = this.history.length + 1;
    this.history.push({ id, data });
    for (const res of this.open) res.write(`id: ${id}\ndata: ${data}\n\n`);
  }
}

describe.skipIf(!run)('in headless Chromium', () => {
  let browser: Browser;
  let bundle: Uint8Array;
  beforeAll(async () => {
    bundle = (await build(browserBuild())).outputFiles![0]!.contents;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: chromiumArgs,
      headless: true,
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const got = (page: Page) =>
    page.evaluate(
      () =>
        (
          window as unknown as {
            got: { client: string[]; es: string[]; esErrors: number; failures: string[] };
          }
        ).got,
    );

  test('subscribes with custom headers, receives events, survives a server restart and resumes', async () => {
    const feed = new Feed(bundle);
    let server: Loopback | undefined = await loopback(feed.handle);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      await page.goto(`${server.origin}/`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      await until(() => feed.subscribers === 2, 'both subscriptions', 10_000);
      for (let i = 1; i <= 5; i++) feed.publish(`before ${i}`);
      await page.waitForFunction(
        () => {
          const g = (window as unknown as { got: { client: string[]; es: string[] } }).got;
          return g.client.length >= 5 && g.es.length >= 5;
        },
        undefined,
        { timeout: 10_000 },
      );

      // Restart: every connection cut, the port closed for a while, then open again.
      const port = server.port;
      await server.close();
      server = undefined;
      for (let i = 6; i <= 8; i++) feed.publish(`while down ${i}`);
      await new Promise((r) => setTimeout(r, 400));
      server = await loopback(feed.handle, port);
      await until(() => feed.subscribers === 2, 'both to reconnect', 10_000);
      for (let i = 9; i <= 10; i++) feed.publish(`after ${i}`);
      await page.waitForFunction(
        () => {
          const g = (window as unknown as { got: { client: string[]; es: string[] } }).got;
          return g.client.length >= 10 && g.es.length >= 10;
        },
        undefined,
        { timeout: 10_000 },
      );

      const g = await got(page);
      const names = [
        ...[1, 2, 3, 4, 5].map((i) => `${i} before ${i}`),
        ...[6, 7, 8].map((i) => `${i} while down ${i}`),
        ...[9, 10].map((i) => `${i} after ${i}`),
      ];
      expect(g.client).toEqual(names);
      expect(g.es).toEqual(names.map((n) => `${n} true`));
      expect(g.failures).toEqual([]);
      expect(g.esErrors).toBeGreaterThanOrEqual(1); // the drop, as "error" with CONNECTING
      expect(pageErrors).toEqual([]);

      const client = feed.log.filter((r) => r.via === 'client');
      const es = feed.log.filter((r) => r.via === 'es');
      expect(client.every((r) => r.custom === 'from the page')).toBe(true);
      expect(es.every((r) => r.custom === 'from EventSource')).toBe(true);
      // The headers function ran before every connect attempt (those refused while the server
      // was down too): a fresh token each time.
      const tokens = client.map((r) => Number(r.token));
      expect(tokens[0]).toBe(1);
      expect(tokens.every((t, i) => i === 0 || t > tokens[i - 1]!)).toBe(true);
      expect(client[0]!.lastEventId).toBe('');
      expect(client.at(-1)!.lastEventId).toBe('5');
      expect(es.at(-1)!.lastEventId).toBe('5');
    } finally {
      await page.close();
      await server?.close();
    }
  });
});
