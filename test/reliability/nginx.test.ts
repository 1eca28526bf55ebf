import type { AddressInfo } from 'node:net';
import { SSEServer } from 'ssekit/server';
import { afterEach, describe, expect, it } from 'vitest';
import { nginxPath, requireTool } from '../support/env.js';
import { serve, subscribe } from '../support/http.js';
import { startNginx } from '../support/nginx.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.runIf(requireTool('nginx', Boolean(nginxPath)))(
  'behind nginx with its default proxy buffering and gzip on',
  () => {
    async function setup() {
      const sse = new SSEServer({ keepAliveMs: 0 });
      sse.createStream('s');
      const app = await serve(sse.handler);
      const proxy = await startNginx((app.server.address() as AddressInfo).port);
      cleanup.push(
        () => sse.close(),
        () => app.close(),
        () => proxy.stop(),
      );
      return { sse, app, proxy };
    }

    it('passes each small event through at once, thanks to X-Accel-Buffering: no', async () => {
      const { sse, proxy } = await setup();
      const sub = await subscribe(`${proxy.url}/events?stream=s`);
      expect(sub.response.headers.get('content-type')).toBe('text/event-stream');
      // Each event must arrive before the next is published: nginx holds nothing back.
      for (let i = 0; i < 5; i++) {
        await sse.publish('s', `tick ${i}`);
        await sub.waitFor(i + 1);
      }
      expect(sub.events.map((e) => e.data)).toEqual([0, 1, 2, 3, 4].map((i) => `tick ${i}`));
      sub.close();
    });

    it('replays through the proxy after the backend drops every connection', async () => {
      const { sse, app, proxy } = await setup();
      const first = await subscribe(`${proxy.url}/events?stream=s`);
      for (let i = 0; i < 3; i++) await sse.publish('s', `e${i}`);
      await first.waitFor(3);
      app.server.closeAllConnections(); // the backend goes away mid-stream
      await first.ended;
      for (let i = 3; i < 6; i++) await sse.publish('s', `e${i}`);
      const again = await subscribe(`${proxy.url}/events?stream=s`, {
        'Last-Event-ID': first.events[2]!.id,
      });
      await sse.publish('s', 'e6');
      const events = await again.waitFor(4);
      expect(events.map((e) => e.data)).toEqual(['e3', 'e4', 'e5', 'e6']);
      again.close();
    });
  },
);
