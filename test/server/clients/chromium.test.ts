import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chromiumArgs, chromiumPath, requireTool } from '../../support/env.js';
import { type Received, reconnectScenario } from './scenario.js';

type Page = Awaited<ReturnType<Browser['newPage']>>;
declare global {
  interface Window {
    received: Received[];
  }
}

describe.runIf(requireTool('chromium', chromiumPath !== undefined))(
  "Chromium's own EventSource",
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('gets every event in order and resumes after a cut and a restart with no loss or duplicate', () =>
      reconnectScenario(async (origin, url) => {
        const page: Page = await browser.newPage();
        // Same origin as the stream, so no CORS is involved.
        await page.goto(origin);
        await page.evaluate((src) => {
          window.received = [];
          const es = new EventSource(src);
          const record = (e: Event) => {
            const m = e as MessageEvent<string>;
            window.received.push({ id: m.lastEventId, event: m.type, data: m.data });
          };
          for (const type of ['message', 'update', 'reset']) es.addEventListener(type, record);
        }, url);
        return {
          received: () => page.evaluate(() => window.received),
          close: () => page.close(),
        };
      }));
  },
);
