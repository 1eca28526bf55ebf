import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HubProcess,
  listen,
  publish,
  run,
  startCommand,
  startHub,
  stopAll,
  until,
} from './support.js';

afterAll(stopAll);

describe('ssekit publish and ssekit subscribe', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHub(['--publish-token', 'tok']);
  });

  it('publish sends DATA with --event and --id and prints the id', async () => {
    await publish(hub.url, 'cmd', 'create', { Authorization: 'Bearer tok' });
    const sub = await listen(`${hub.url}/events?stream=cmd`);
    const r = await run([
      'publish',
      `${hub.url}/publish`,
      '--stream',
      'cmd',
      '--event',
      'note',
      '--id',
      'n-1',
      '--token',
      'tok',
      'hello there',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('n-1\n');
    expect((await sub.waitFor(1))[0]).toEqual({ id: 'n-1', event: 'note', data: 'hello there' });
    sub.close();
  });

  it("publish without the token exits 1 with the hub's 401 reason; a wrong one with the 403", async () => {
    const none = await run(['publish', `${hub.url}/publish`, '--stream', 'cmd', 'x']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/HTTP 401: A token is required to publish/);
    const wrong = await run(['publish', `${hub.url}/publish`, '--stream', 'cmd', 'x'], {
      env: { SSEKIT_TOKEN: 'nope' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/HTTP 403/);
  });

  it('publish to a URL that answers 200 but not as a hub exits 1 and says what came back', async () => {
    const site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Welcome to the shop</body></html>');
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    const { port } = site.address() as AddressInfo;
    try {
      const r = await run(['publish', `http://127.0.0.1:${port}/publish`, '--stream', 's', 'x']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `ssekit publish: http://127.0.0.1:${port}/publish answered HTTP 200, but not with the JSON a hub answers ({"ids": [...]}): is it the hub's /publish endpoint? Its reply began: "<html><body>Welcome to the shop</body></html>"\n`,
      );
    } finally {
      site.close();
    }
  });

  it('wrong usage exits 2 with a message', async () => {
    const noStream = await run(['publish', `${hub.url}/publish`, 'x']);
    expect(noStream.code).toBe(2);
    expect(noStream.stderr).toMatch(/--stream NAME/);
    const badUrl = await run(['subscribe', 'not a url']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/not an http\(s\) URL/);
    const unknown = await run(['serve', '--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'ssekit: unknown option --no-such-flag\nRun "ssekit serve --help" for usage.\n',
    );
    const badDelay = await run(['serve', '--max-write-delay', '5s']);
    expect(badDelay.code).toBe(2);
    expect(badDelay.stderr).toBe(
      'ssekit: --max-write-delay must be a whole number from 0 to 60000, got "5s"\nRun "ssekit serve --help" for usage.\n',
    );
    const badPort = await run(['serve', '--port', 'abc']);
    expect(badPort.stderr).toBe(
      'ssekit: --port must be a whole number from 0 to 65535, got "abc"\nRun "ssekit serve --help" for usage.\n',
    );
    const nothing = await run([]);
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toBe('');
    expect(nothing.stderr).toMatch(/^ssekit — Server-Sent Events hub/);
  });

  it('--help documents every serve option and its environment variable', async () => {
    const r = await run(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const [flag, env] of [
      ['--port', 'SSEKIT_PORT'],
      ['--host', 'SSEKIT_HOST'],
      ['--redis', 'SSEKIT_REDIS_URL'],
      ['--publish-token', 'SSEKIT_PUBLISH_TOKEN'],
      ['--jwt-secret', 'SSEKIT_JWT_SECRET'],
      ['--jwt-public-key', 'SSEKIT_JWT_PUBLIC_KEY'],
      ['--cors-origin', 'SSEKIT_CORS_ORIGIN'],
      ['--auto-stream', 'SSEKIT_AUTO_STREAM'],
      ['--log-format', 'SSEKIT_LOG_FORMAT'],
      ['--max-body', 'SSEKIT_MAX_BODY'],
      ['--max-subscribers', 'SSEKIT_MAX_SUBSCRIBERS'],
      ['--max-write-delay', 'SSEKIT_MAX_WRITE_DELAY_MS'],
    ]) {
      expect(r.stdout).toContain(flag);
      expect(r.stdout).toContain(`env ${env}`);
    }
    expect((await run(['subscribe', '--help'])).stdout).toMatch(/--last-event-id/);
    expect((await run(['publish', '--help'])).stdout).toMatch(/--stdin/);
  });

  it('publish --stdin sends one event per line, in order, with progress on stderr', async () => {
    await publish(hub.url, 'bulk', 'create', { Authorization: 'Bearer tok' });
    const sub = await listen(`${hub.url}/events?stream=bulk`);
    const lines = Array.from({ length: 2500 }, (_, i) => `line ${i}`);
    const r = await run(
      ['publish', `${hub.url}/publish`, '--stream', 'bulk', '--token', 'tok', '--stdin'],
      { input: `${lines.join('\n')}\n` },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2500 events published, last id \d+/);
    expect(r.stderr).toMatch(
      /1000 events published\n.*2000 events published\n.*done, 2500 events published/s,
    );
    const events = await sub.waitFor(2500);
    expect(events.map((e) => e.data)).toEqual(lines);
    sub.close();
  });

  it('subscribe --json prints NDJSON {id, event, data}, resuming after --last-event-id', async () => {
    const ids: string[] = [];
    for (const d of ['a', 'b\nc']) {
      const res = await publish(hub.url, 'nd', JSON.stringify({ data: d, event: 'e' }), {
        Authorization: 'Bearer tok',
        'Content-Type': 'application/json',
      });
      ids.push(((await res.json()) as { ids: string[] }).ids[0]!);
    }
    const all = await run([
      'subscribe',
      `${hub.url}/events`,
      '--stream',
      'nd',
      '--json',
      '--last-event-id',
      ids[0]!,
      '--count',
      '1',
    ]);
    expect(all.code).toBe(0);
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ id: ids[1], event: 'e', data: 'b\nc' }]);
  });

  it('subscribe prints live events as text until --count', async () => {
    await publish(hub.url, 'live', 'create', { Authorization: 'Bearer tok' });
    const child = startCommand([
      'subscribe',
      `${hub.url}/events`,
      '--stream',
      'live',
      '--count',
      '2',
    ]);
    // Publish until the subscriber has printed two events (it may connect after the first ones).
    for (let i = 0; i < 200 && child.stdout().split('\n').length < 3; i++) {
      await publish(hub.url, 'live', `event ${i}`, { Authorization: 'Bearer tok' });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await child.exited).toBe(0);
    expect(child.stdout()).toMatch(/^\[\d+\] message: event \d+\n\[\d+\] message: event \d+\n$/);
  });

  it("subscribe exits 1 with the server's reason on a 4xx", async () => {
    const r = await run(['subscribe', `${hub.url}/events`, '--stream', 'missing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP 404: Stream "missing" does not exist yet/);
  });
});

describe('ssekit subscribe reconnects', () => {
  it('across a hub restart on the same port, with a reset then the new events', async () => {
    let hub = await startHub(['--auto-stream']);
    const port = String(hub.port);
    const child = startCommand([
      'subscribe',
      `${hub.url}/events`,
      '--stream',
      'r',
      '--json',
      '--header',
      'X-Test: 1',
    ]);
    await until(() => hub.stderr().length > 0);
    for (let i = 0; i < 200 && child.stdout() === ''; i++) {
      await publish(hub.url, 'r', 'before');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await hub.stop()).toBe(0);
    hub = await startHub(['--auto-stream', '--port', port]);
    await until(() => child.stderr().includes('reconnecting'), 10_000, 'the disconnect notice');
    for (let i = 0; i < 200 && !child.stdout().includes('"after"'); i++) {
      await publish(hub.url, 'r', 'after');
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = child
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; data: string });
    // The new hub has no memory of the old ids: it says so with a reset before the new events.
    const reset = lines.findIndex((l) => l.event === 'reset');
    expect(reset).toBeGreaterThan(0);
    expect(lines.slice(reset + 1).some((l) => l.data === 'after')).toBe(true);
    child.proc.kill('SIGINT');
    expect(await child.exited).toBe(0);
    await hub.stop();
  });
});
