/**
 * Faults on one server, each with a defined outcome and nothing lost within history:
 * a network path that stalls (a loopback TCP proxy that stops forwarding, then resumes), and the
 * client's machine sleeping (an SSEClient process stopped with SIGSTOP, then continued).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SSEClient } from 'ssekit/client';
import type { SSEEvent } from 'ssekit/protocol';
import { SSEServer, type UnsubscribeReason } from 'ssekit/server';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, subscribe } from '../support/http.js';
import { killChildren, lines, range, StallProxy, spawnTs, stderrOf, until } from './support.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await killChildren();
});

async function setup(maxQueuedBytes: number) {
  const reasons: UnsubscribeReason[] = [];
  const sse = new SSEServer({
    keepAliveMs: 0,
    maxQueuedBytes,
    history: { maxEvents: 20_000 },
    onUnsubscribe: (_stream, info) => reasons.push(info.reason),
  });
  sse.createStream('s');
  const app = await serve(sse.handler);
  const port = (app.server.address() as AddressInfo).port;
  cleanup.push(
    () => sse.close(),
    () => app.close(),
  );
  return { sse, app, port, reasons };
}

/** An in-process SSEClient that records events and accepted connections. */
function client(url: string) {
  const events: SSEEvent[] = [];
  let connects = 0;
  const controller = new AbortController();
  const c = new SSEClient(url, {
    reconnect: { initialDelayMs: 50, maxDelayMs: 500, maxRetries: 100 },
    onConnect: () => connects++,
  });
  const done = c.subscribe('s', (e) => events.push(e), { signal: controller.signal });
  cleanup.push(async () => {
    controller.abort();
    await done;
  });
  return {
    events,
    get connects() {
      return connects;
    },
    data: () => events.map((e) => e.data),
  };
}

const payload = (i: number, size: number) => `${i}:${'x'.repeat(size)}`;
/** Lists of big payloads compared by their heads, so a failure prints something readable. */
const heads = (list: string[]) => list.map((d) => d.slice(0, 12));

describe('a network path that stalls', () => {
  it('delivers everything, in order, on the same connection when the stall fits in the buffers', async () => {
    const { sse, port, reasons } = await setup(1024 * 1024);
    const proxy = await StallProxy.start(() => port);
    cleanup.push(() => proxy.close());
    const c = client(`${proxy.url}/events`);
    await until(() => c.connects === 1, 10_000, 'the client to connect');
    for (const d of range(5, 'before')) await sse.publish('s', d);
    await until(() => c.events.length === 5, 10_000, 'the first events');

    proxy.pause();
    const during = range(200, 'during');
    for (const d of during) await sse.publish('s', d);
    expect(c.events.length).toBe(5); // nothing passes while stalled
    proxy.resume();
    await sse.publish('s', 'after');
    await until(() => c.events.length === 206, 20_000, 'every event after the stall');

    expect(c.data()).toEqual([...range(5, 'before'), ...during, 'after']);
    expect(c.connects).toBe(1);
    expect(reasons).toEqual([]);
    expect(proxy.connections).toBe(1);
  });

  it('cuts the stalled subscriber as slow, and the client resumes with Last-Event-ID missing nothing', async () => {
    const { sse, port, reasons } = await setup(64 * 1024);
    const proxy = await StallProxy.start(() => port);
    cleanup.push(() => proxy.close());
    const c = client(`${proxy.url}/events`);
    await until(() => c.connects === 1, 10_000, 'the client to connect');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(payload(i, 10));
      await sse.publish('s', sent[i]!);
    }
    await until(() => c.events.length === 5, 10_000, 'the first events');

    proxy.pause();
    // Publish 4 KB events until the server gives up on the stalled subscriber: the kernel's
    // buffers take some, then its queue passes maxQueuedBytes. Bounded: at most 15,000 (60 MB).
    for (let i = 5; i < 15_000 && !reasons.includes('slow-subscriber'); i++) {
      sent.push(payload(i, 4096));
      await sse.publish('s', sent[i]!);
    }
    expect(reasons).toEqual(['slow-subscriber']);
    proxy.resume();
    sent.push('after');
    await sse.publish('s', 'after');
    await until(() => c.data().at(-1) === 'after', 30_000, 'the client to catch up');

    // Each event once, in order: the cut connection's tail came again by replay, not twice.
    expect(c.data().length).toBe(sent.length);
    expect(heads(c.data())).toEqual(heads(sent));
    expect(c.data()).toEqual(sent);
    expect(c.events.some((e) => e.event === 'reset')).toBe(false);
    expect(c.connects).toBeGreaterThanOrEqual(2);
  }, 90_000);
});

describe('a reconnect after a long absence', () => {
  it('replays a history larger than maxQueuedBytes in full instead of cutting the client as slow', async () => {
    // Found by the stall test: a replay bigger than maxQueuedBytes was written in one piece, the
    // queue check cut the subscriber at once, and the client looped on reconnects forever.
    const { sse, app, reasons } = await setup(64 * 1024);
    const first = await sse.publish('s', 'first');
    const sent = Array.from({ length: 200 }, (_, i) => payload(i, 4096));
    for (const d of sent) await sse.publish('s', d);
    const sub = await subscribe(`${app.url}/events?stream=s`, { 'Last-Event-ID': first });
    cleanup.push(() => sub.close());
    const events = await sub.waitFor(200, 20_000);
    expect(heads(events.map((e) => e.data))).toEqual(heads(sent));
    expect(heads(events.map((e) => e.data))).toEqual(heads(sent));
    expect(reasons).toEqual([]);
  });
});

describe("the client's machine sleeping", () => {
  it('a client stopped with SIGSTOP while events flow ends with every event once, in order', async () => {
    const { sse, port, reasons } = await setup(256 * 1024);
    const proc = spawnTs('test/reliability/fixtures/client.ts', [
      `http://127.0.0.1:${port}/events?stream=s`,
    ]);
    const out = lines(proc);
    const err = stderrOf(proc);
    const exited = once(proc, 'exit');
    await until(() => out.includes('{"connect":1}'), 30_000, `the client process: ${err()}`);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(payload(i, 10));
      await sse.publish('s', sent[i]!);
    }
    await until(() => out.length >= 6, 10_000, 'the first events');

    proc.kill('SIGSTOP');
    try {
      // Two seconds asleep while 4,000 events of 2 KB (8 MB) are published.
      for (let round = 0; round < 20; round++) {
        for (let k = 0; k < 200; k++) {
          const d = payload(sent.length, 2048);
          sent.push(d);
          await sse.publish('s', d);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      proc.kill('SIGCONT');
    }
    sent.push('end');
    await sse.publish('s', 'end');
    const [code] = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`the client did not finish: ${err()}`)), 30_000),
      ),
    ]);
    expect(code).toBe(0);
    await until(() => out.at(-1) !== undefined, 1000);

    const records = out.filter((l) => l !== '').map((l) => JSON.parse(l));
    const events = records.filter((r) => 'data' in r) as SSEEvent[];
    const connects = records.filter((r) => 'connect' in r).length;
    expect(heads(events.map((e) => e.data))).toEqual(heads(sent));
    expect(events.map((e) => e.data)).toEqual(sent);
    // Defined outcome: either the buffers held it all on one connection, or the server cut the
    // sleeper as slow and it resumed with Last-Event-ID.
    if (reasons.includes('slow-subscriber')) expect(connects).toBeGreaterThanOrEqual(2);
    else expect(connects).toBe(1);
    console.log(
      `SIGSTOP: ${sent.length} events, ${connects} connection(s), server cut: ${reasons.join(',') || 'none'}`,
    );
  }, 90_000);
});
