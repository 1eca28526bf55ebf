import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  type HubProcess,
  listen,
  publish,
  startCommand,
  startHub,
  stopAll,
  until,
} from './support.js';

afterAll(stopAll);

describe('ssekit serve: endpoints', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHub([
      '--max-body',
      '200',
      '--max-stream-name',
      '20',
      '--max-subscribers',
      '2',
      '--cors-origin',
      'http://app.example',
    ]);
  });

  it('GET /healthz answers 200 ok', async () => {
    const res = await fetch(`${hub.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('GET / is the page, which loads the browser client the hub serves', async () => {
    const page = await fetch(`${hub.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain("from '/ssekit-client.js'");
    const js = await fetch(`${hub.url}/ssekit-client.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toMatch(/SSEClient/);
  });

  it('unknown paths are 404 with a reason', async () => {
    const res = await fetch(`${hub.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/\/events, \/publish/);
  });

  it('a text body publishes one event and the reply lists its id; subscribers get it', async () => {
    expect((await publish(hub.url, 'plain', 'first')).status).toBe(200);
    const sub = await listen(`${hub.url}/events?stream=plain`);
    expect(sub.response.status).toBe(200);
    expect(sub.response.headers.get('content-type')).toBe('text/event-stream');
    const res = await publish(hub.url, 'plain', 'line one\nline two');
    expect(res.status).toBe(200);
    const { stream, ids } = (await res.json()) as { stream: string; ids: string[] };
    expect(stream).toBe('plain');
    expect(ids).toHaveLength(1);
    const [e] = await sub.waitFor(1);
    expect(e).toEqual({ id: ids[0], event: 'message', data: 'line one\nline two' });
    sub.close();
  });

  it('a JSON object sets data, id, event and retry; a JSON array publishes a batch in order', async () => {
    await publish(hub.url, 'json', 'create');
    const sub = await listen(`${hub.url}/events?stream=json`);
    const one = await publish(
      hub.url,
      'json',
      JSON.stringify({ data: 'x', id: 'custom-1', event: 'greet', retry: 2500 }),
      { 'Content-Type': 'application/json' },
    );
    expect(((await one.json()) as { ids: string[] }).ids).toEqual(['custom-1']);
    const batch = [{ data: 'a' }, { data: 'b', event: 'two' }, { data: { n: 3 } }];
    const many = await publish(hub.url, 'json', JSON.stringify(batch), {
      'Content-Type': 'application/json',
    });
    const { ids } = (await many.json()) as { ids: string[] };
    expect(ids).toHaveLength(3);
    const events = await sub.waitFor(4);
    expect(events[0]).toEqual({ id: 'custom-1', event: 'greet', data: 'x', retry: 2500 });
    expect(events.slice(1).map((e) => [e.id, e.event, e.data])).toEqual([
      [ids[0], 'message', 'a'],
      [ids[1], 'two', 'b'],
      [ids[2], 'message', '{"n":3}'],
    ]);
    sub.close();
  });

  it('any JSON Content-Type (text/json, +json) is a JSON event; text/plain is the data as is', async () => {
    await publish(hub.url, 'types', 'create');
    const sub = await listen(`${hub.url}/events?stream=types`);
    const json = JSON.stringify({ data: 'x', event: 'typed' });
    for (const type of ['text/json', 'application/vnd.api+json; charset=utf-8', 'text/plain']) {
      expect((await publish(hub.url, 'types', json, { 'Content-Type': type })).status).toBe(200);
    }
    const events = await sub.waitFor(3);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['typed', 'x'],
      ['typed', 'x'],
      ['message', json],
    ]);
    sub.close();
  });

  it('Last-Event-ID replays the events after it', async () => {
    const ids: string[] = [];
    for (const d of ['r1', 'r2', 'r3'])
      ids.push(((await (await publish(hub.url, 'replay', d)).json()) as { ids: string[] }).ids[0]!);
    const sub = await listen(`${hub.url}/events?stream=replay`, { 'Last-Event-ID': ids[0]! });
    const events = await sub.waitFor(2);
    expect(events.map((e) => e.data)).toEqual(['r2', 'r3']);
    sub.close();
  });

  it.each([
    ['missing stream', '/publish', { method: 'POST', body: 'x' }, 400, /"stream" query parameter/],
    ['GET on /publish', '/publish?stream=a', { method: 'GET' }, 405, /publish with POST/],
    [
      'invalid JSON',
      '/publish?stream=a',
      { method: 'POST', body: '{nope', headers: { 'Content-Type': 'application/json' } },
      400,
      /not valid JSON/,
    ],
    [
      'JSON without data',
      '/publish?stream=a',
      { method: 'POST', body: '{"id":"1"}', headers: { 'Content-Type': 'application/json' } },
      400,
      /"data"/,
    ],
    [
      'an id with a newline',
      '/publish?stream=a',
      {
        method: 'POST',
        body: '{"data":"x","id":"a\\nb"}',
        headers: { 'Content-Type': 'application/json' },
      },
      400,
      /id/,
    ],
    [
      'a body over --max-body',
      '/publish?stream=a',
      { method: 'POST', body: 'x'.repeat(201) },
      413,
      /limit of 200 bytes/,
    ],
    [
      'a stream name over --max-stream-name (publish)',
      `/publish?stream=${'n'.repeat(21)}`,
      { method: 'POST', body: 'x' },
      400,
      /at most 20 characters/,
    ],
    [
      'a stream name over --max-stream-name (subscribe)',
      `/events?stream=${'n'.repeat(21)}`,
      {},
      400,
      /at most 20 characters/,
    ],
    [
      'subscribing to a stream nobody published to',
      '/events?stream=never',
      {},
      404,
      /does not exist yet.*--auto-stream/,
    ],
    ['subscribing without a stream', '/events', {}, 400, /"stream" query parameter/],
    ['POST on /events', '/events?stream=plain', { method: 'POST' }, 405, /subscribe with GET/],
  ] as const)('%s → %i with a reason', async (_name, path, init, status, reason) => {
    const res = await fetch(`${hub.url}${path}`, init as RequestInit);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(reason);
  });

  it('a stream past --max-subscribers answers 429 with Retry-After', async () => {
    await publish(hub.url, 'full', 'x');
    const a = await listen(`${hub.url}/events?stream=full`);
    const b = await listen(`${hub.url}/events?stream=full`);
    const res = await fetch(`${hub.url}/events?stream=full`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.text()).toMatch(/maximum of 2 subscribers/);
    a.close();
    b.close();
  });

  it('--cors-origin answers preflights and marks replies for that origin only', async () => {
    const pre = await fetch(`${hub.url}/publish?stream=c`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const pub = await publish(hub.url, 'c', 'x', { Origin: 'http://app.example' });
    expect(pub.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const sub = await listen(`${hub.url}/events?stream=c`, { Origin: 'http://app.example' });
    expect(sub.response.headers.get('access-control-allow-origin')).toBe('http://app.example');
    sub.close();
    const other = await publish(hub.url, 'c', 'x', { Origin: 'http://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('ssekit serve: options', () => {
  it('--auto-stream lets a subscriber wait for a stream nobody published to yet', async () => {
    const hub = await startHub(['--auto-stream']);
    const sub = await listen(`${hub.url}/events?stream=later`);
    expect(sub.response.status).toBe(200);
    await publish(hub.url, 'later', 'arrived');
    expect((await sub.waitFor(1))[0]!.data).toBe('arrived');
    sub.close();
    await hub.stop();
  });

  it('reads options from SSEKIT_* environment variables, and flags win over them', async () => {
    const hub = await startHub(['--max-body', '5'], {
      SSEKIT_PUBLISH_TOKEN: 'env-token',
      SSEKIT_MAX_BODY: '1000',
    });
    expect((await publish(hub.url, 's', 'x')).status).toBe(401);
    expect((await publish(hub.url, 's', 'x', { Authorization: 'Bearer env-token' })).status).toBe(
      200,
    );
    expect(
      (await publish(hub.url, 's', '123456', { Authorization: 'Bearer env-token' })).status,
    ).toBe(413);
    await hub.stop();
  });

  it('--log-format json writes one JSON object per line, the startup one with the URL', async () => {
    const hub = await startHub(['--log-format', 'json']);
    const first = JSON.parse(hub.stderr().split('\n')[0]!) as {
      level: string;
      url: string;
      msg: string;
    };
    expect(first.level).toBe('info');
    expect(first.url).toBe(hub.url);
    await hub.stop();
  });
});

describe('ssekit serve: metrics', () => {
  it('/metrics counts subscribers, published and delivered events, replays and resets', async () => {
    const hub = await startHub();
    const value = async (name: string): Promise<number> => {
      const text = await (await fetch(`${hub.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? 0 : Number(line.slice(name.length + 1));
    };
    expect(await value('ssekit_events_published_total')).toBe(0);
    const first = (await (await publish(hub.url, 'm', 'one')).json()) as { ids: string[] };
    const a = await listen(`${hub.url}/events?stream=m`);
    const b = await listen(`${hub.url}/events?stream=m`, { 'Last-Event-ID': first.ids[0]! });
    const c = await listen(`${hub.url}/events?stream=m`, { 'Last-Event-ID': 'not-an-id' });
    await c.waitFor(2); // the reset, then 'one'
    expect(c.events[0]!.event).toBe('reset');
    expect(await value('ssekit_subscribers{stream="m"}')).toBe(3);
    await publish(hub.url, 'm', JSON.stringify([{ data: 'two' }, { data: 'three' }]), {
      'Content-Type': 'application/json',
    });
    await a.waitFor(2);
    await b.waitFor(2);
    expect(await value('ssekit_events_published_total')).toBe(3);
    expect(await value('ssekit_events_delivered_total')).toBe(6);
    expect(await value('ssekit_replays_total')).toBe(1);
    expect(await value('ssekit_resets_total')).toBe(1);
    expect(await value('ssekit_publish_duration_seconds_count')).toBe(2);
    const text = await (await fetch(`${hub.url}/metrics`)).text();
    expect(text).toMatch(/^ssekit_process_resident_memory_bytes \d+/m);
    a.close();
    b.close();
    c.close();
    await hub.stop();
  });
});

describe('ssekit serve: shutdown', () => {
  it('SIGTERM while the hub still waits for Redis at startup exits 0', async () => {
    const port = await freePort(); // nothing listens there
    const child = startCommand([
      'serve',
      '--port',
      '0',
      '--redis',
      `redis://127.0.0.1:${port}`,
      '--log-level',
      'info',
    ]);
    // The hub waits up to 3 s for Redis before it listens; stop it in the middle of that.
    await until(
      () => /ssekit/.test(child.stderr()) || child.proc.exitCode !== null,
      10_000,
      'startup',
    );
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stderr()).not.toMatch(/hub listening/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s ends every stream cleanly and exits 0',
    async (signal) => {
      const hub = await startHub();
      await publish(hub.url, 's1', 'x');
      await publish(hub.url, 's2', 'x');
      const subs = await Promise.all([
        listen(`${hub.url}/events?stream=s1`),
        listen(`${hub.url}/events?stream=s2`),
      ]);
      hub.proc.kill(signal);
      const code = await Promise.race([
        hub.exited,
        new Promise((r) => setTimeout(() => r('still running after 5 s'), 5000)),
      ]);
      expect(code).toBe(0);
      // The responses ended with their chunked terminator: a clean end of stream, not a reset.
      expect(await Promise.all(subs.map((s) => s.ended))).toEqual(['clean', 'clean']);
      expect(hub.stderr()).toMatch(/shutting down/);
      await hub.stop();
    },
  );
});
