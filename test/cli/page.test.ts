import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath, redisServerPath, requireTool } from '../support/env.js';
import { run, startHub, startRedis, stopAll } from './support.js';

const ready =
  requireTool('chromium', chromiumPath !== undefined) &&
  requireTool('redis-server', redisServerPath !== undefined);
/** Kept by CI as an artifact: what the page looks like with events and a reconnect. */
const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

describe.runIf(ready)('the hub page in Chromium', () => {
  let browser: Browser;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    redis = await startRedis(redisServerPath ?? 'redis-server');
  });
  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await redis?.stop();
  });

  it('shows events published from the command line, reconnects after a restart and shows what it missed', async () => {
    const args = ['--redis', redis.url, '--redis-prefix', `page${Date.now()}`];
    let hub = await startHub(args);
    const publishCli = async (data: string, event?: string, via = hub.url) => {
      const r = await run([
        'publish',
        `${via}/publish`,
        '--stream',
        'demo',
        ...(event ? ['--event', event] : []),
        data,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout.trim();
    };
    await publishCli('created before the page opened');
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hub.url}/?stream=demo`);
    const state = page.locator('#state');
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 15_000 }).toBe('open');

    const id1 = await publishCli('hello from the command line', 'greeting');
    const row = page.locator('#events tr', { hasText: 'hello from the command line' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td.id').textContent()).toBe(id1);
    expect(await row.locator('td.type').textContent()).toBe('greeting');
    expect(await row.locator('td.time').textContent()).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);

    // The page publishes too, and sees its own event arrive.
    await page.fill('#data', 'typed in the page');
    await page.click('#publish');
    await page.locator('#events tr', { hasText: 'typed in the page' }).waitFor({ timeout: 10_000 });

    // Stop the page's hub; while it is down, publish through a second hub on the same Redis.
    const other = await startHub(args);
    const port = String(hub.port);
    expect(await hub.stop()).toBe(0);
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 10_000 }).not.toBe('open');
    const missed = await publishCli('published while the page was away', undefined, other.url);
    expect(
      await page.locator('#events tr', { hasText: 'published while the page was away' }).count(),
    ).toBe(0);
    // Restart the page's hub on the same port: the page reconnects and replays what it missed.
    hub = await startHub([...args, '--port', port]);
    await page
      .locator('#events tr', { hasText: 'published while the page was away' })
      .waitFor({ timeout: 20_000 });
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 10_000 }).toBe('open');
    expect(Number(await page.locator('#reconnects').textContent())).toBeGreaterThanOrEqual(1);
    const missedRow = page.locator('#events tr', { hasText: 'published while the page was away' });
    expect(await missedRow.locator('td.id').textContent()).toBe(missed);
    // Resumed from its last id: nothing replayed twice, no reset.
    expect(
      await page.locator('#events tr', { hasText: 'hello from the command line' }).count(),
    ).toBe(1);
    expect(await page.locator('#events tr.reset').count()).toBe(0);
    await page.locator('#events tr.notice', { hasText: 'reconnected' }).first().waitFor();

    await publishCli('live again after the restart');
    await page
      .locator('#events tr', { hasText: 'live again after the restart' })
      .waitFor({ timeout: 10_000 });
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}hub-page.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
    expect(await hub.stop()).toBe(0);
    expect(await other.stop()).toBe(0);
  });
});
