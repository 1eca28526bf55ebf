import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SSEServer } from 'ssekit/server';
import { expect, it } from 'vitest';
import { activeResources, listen, rawRequest, waitFor } from '../loopback.js';
import { growth, settle } from '../transports/suite.js';

/** A real gc(): exposed at run time, so the test needs no special node flags. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of emitter.eventNames()) counts[String(name)] = emitter.listenerCount(name);
  return counts;
}

const CYCLES = 3000;
const AT_ONCE = 25;

it(`${CYCLES} connect/disconnect cycles leave no subscribers, handles, listeners, timers or heap behind`, async () => {
  const gc = collector();
  let subscribed = 0;
  const reasons = new Map<string, number>();
  const sse = new SSEServer({
    onSubscribe: () => subscribed++,
    onUnsubscribe: (_s, { reason }) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1),
  });
  const stream = sse.createStream('churn');
  const server = http.createServer(sse.handler);
  const l = await listen(server);
  const deadline = Date.now() + 60_000;

  // Each client subscribes, waits for its first bytes (the subscription is open), then vanishes.
  const cycle = async (i: number) => {
    const r = rawRequest(
      l.port,
      `GET /?stream=churn HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${i}\r\n\r\n`,
    );
    await waitFor(() => r.status() !== 0 || r.log.ended, 'the response head');
    expect(r.status()).toBe(200);
    r.socket.destroy();
    await new Promise((resolve) => r.socket.once('close', resolve));
  };
  const run = async (from: number, to: number) => {
    for (let i = from; i < to; i += AT_ONCE) {
      if (Date.now() > deadline) throw new Error(`only ${i} cycles within the time bound`);
      await Promise.all(Array.from({ length: Math.min(AT_ONCE, to - i) }, (_, k) => cycle(i + k)));
      if (i % 500 === 0) await sse.publish('churn', `tick ${i}`);
    }
    await waitFor(() => stream.subscriberCount === 0, 'every subscriber to be gone');
  };

  try {
    // Warm up: JIT, lazily made handles and caches are not leaks.
    await run(0, 200);
    await settle();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const resourcesBefore = activeResources();
    const serverListeners = listenerCounts(server);
    const processListeners = listenerCounts(process);

    await run(200, CYCLES);
    await waitFor(
      () => subscribed === CYCLES && reasons.get('client-closed') === CYCLES,
      'every hook',
    );
    expect([...reasons]).toEqual([['client-closed', CYCLES]]);
    expect(stream.subscriberCount).toBe(0);
    await settle();
    expect(growth(resourcesBefore, activeResources())).toEqual({});
    expect(listenerCounts(server)).toEqual(serverListeners);
    expect(listenerCounts(process)).toEqual(processListeners);
    gc();
    // Generous: a leak of even 2 KB per connection would be over 5 MB here.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(4 * 1024 * 1024);
  } finally {
    await sse.close();
    await l.close();
  }
});
