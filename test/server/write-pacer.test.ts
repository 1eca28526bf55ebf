/**
 * When a stream holds events (WritePacer) and what holding must never change: a stream that
 * keeps up writes at the end of the tick, a replay never repeats a held event, nothing is left
 * armed after close(). Stream-level, with connections that record their writes and can be made
 * slow, so that whether a stream holds is decided by the test and not by the machine's speed;
 * write-joining.test.ts covers the same over real HTTP.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker/memory.js';
import type { Connection } from '../../src/server/connection.js';
import { Stream, type StreamSettings } from '../../src/server/stream.js';
import { Subscriber } from '../../src/server/subscriber.js';
import { WritePacer } from '../../src/server/write-pacer.js';
import { sleep } from '../support/wait.js';

/** `ticks` ticks `gap` ms apart, each followed by a fan-out of `cost` ms; the last hold. */
function run(pacer: WritePacer, from: number, ticks: number, gap: number, cost: number) {
  let t = from;
  let hold = 0;
  for (let i = 0; i < ticks; i++) {
    hold = pacer.arrived((t += gap));
    pacer.wrote(cost);
  }
  return { t, hold };
}

describe('WritePacer', () => {
  it('holds nothing while ticks come further apart than 4/3 of a fan-out', () => {
    const pacer = new WritePacer(20);
    expect(pacer.arrived(0)).toBe(0);
    expect(run(pacer, 0, 200, 10, 1).hold).toBe(0);
    expect(run(pacer, 2000, 200, 10, 7).hold).toBe(0); // a fan-out 7/10 of the gap
  });

  it('holds for about one fan-out, in whole ms from 1 to the maximum, once ticks come faster', () => {
    expect(run(new WritePacer(20), 0, 200, 0.3, 0.3).hold).toBe(1); // at least a timer's 1 ms
    expect(run(new WritePacer(20), 0, 200, 4, 4.2).hold).toBe(5);
    expect(run(new WritePacer(20), 0, 200, 100, 300).hold).toBe(20);
  });

  it('a few quick ticks or one slow fan-out do not start holding; a lasting load does', () => {
    // A publisher catching up after a pause: 8 ticks back to back.
    const caughtUp = new WritePacer(20);
    let { t } = run(caughtUp, 0, 200, 10, 5); // half busy
    ({ t } = run(caughtUp, t, 8, 0.01, 5));
    expect(run(caughtUp, t, 1, 10, 5).hold).toBe(0);
    // One fan-out slowed to 30 ms (a GC, the scheduler).
    const slowed = new WritePacer(20);
    ({ t } = run(slowed, 0, 200, 10, 5));
    ({ t } = run(slowed, t, 1, 10, 30));
    expect(run(slowed, t, 1, 10, 5).hold).toBe(0);
    // Events twice as often for a while.
    expect(run(slowed, t, 100, 5, 5).hold).toBeGreaterThan(0);
  });

  it('stops holding once the load is gone', () => {
    const pacer = new WritePacer(20);
    const { t, hold } = run(pacer, 0, 200, 1, 2);
    expect(hold).toBe(2);
    expect(run(pacer, t, 200, 100, 2).hold).toBe(0);
  });

  it('never holds with maxWriteDelayMs 0, nor after reset()', () => {
    expect(run(new WritePacer(0), 0, 200, 0.1, 100).hold).toBe(0);
    const pacer = new WritePacer(20);
    const { t } = run(pacer, 0, 200, 0.1, 100);
    pacer.reset();
    expect(pacer.arrived(t + 0.1)).toBe(0);
  });
});

/** A connection that records what it is sent; `slowMs` makes each write take that long. */
function recorder(slowMs = 0): Connection & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    write(chunk) {
      const end = performance.now() + slowMs;
      while (performance.now() < end) {} // a socket write that costs this much
      writes.push(Buffer.from(chunk).toString());
    },
    queuedBytes: 0,
    end() {},
    destroy() {},
  };
}

function settings(broker: MemoryBroker, maxWriteDelayMs = 20): StreamSettings {
  const limits = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
  return {
    broker,
    limits,
    replayLimits: limits,
    resetEvent: 'reset',
    maxQueuedBytes: 1024 * 1024,
    maxWriteDelayMs,
    encodeBase64: false,
  };
}

const info = (id: string) => ({ connectionId: id, lastEventId: '', request: {} as never });
const idsIn = (writes: string[]) => writes.join('').match(/^id: .*$/gm) ?? [];

/** A stream whose fan-out takes ~2 ms (20 subscribers × 0.1 ms), so back-to-back events are held. */
async function busyStream(maxWriteDelayMs = 20) {
  const broker = new MemoryBroker();
  const stream = new Stream('s', settings(broker, maxWriteDelayMs));
  await stream.ready;
  const crowd = Array.from({ length: 20 }, () => recorder(0.1));
  for (const [i, c] of crowd.entries())
    await stream.attach(new Subscriber(c, info(`c${i}`)), undefined);
  return { broker, stream, crowd };
}

describe('a stream that holds events', () => {
  it('writes at the end of the tick while it keeps up: no timer involved', async () => {
    const stream = new Stream('s', settings(new MemoryBroker()));
    await stream.ready;
    const c = recorder();
    await stream.attach(new Subscriber(c, info('c')), undefined);
    for (let i = 0; i < 5; i++) {
      await stream.publish(`event ${i}`); // resolves after the tick's end, before any timer
      expect(c.writes.length).toBe(i + 1);
      await sleep(20);
    }
  });

  it('holds back-to-back events and writes them once, in order', async () => {
    const { stream, crowd } = await busyStream();
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await stream.publish(`event ${i}`));
    expect(crowd[0]!.writes.length).toBeLessThan(10); // some are held
    await sleep(50);
    for (const c of crowd) expect(idsIn(c.writes)).toEqual(ids.map((id) => `id: ${id}`));
    expect(crowd[0]!.writes.length).toBeLessThan(10);
    await stream.close('server-closed');
  });

  it('a replay from the id of a held event sends none of the held events again', async () => {
    const { stream } = await busyStream();
    await stream.publish('e0');
    await stream.publish('e1'); // held
    const e2 = await stream.publish('e2');
    const late = recorder();
    await stream.attach(new Subscriber(late, info('late')), e2);
    await sleep(50);
    expect(idsIn(late.writes)).toEqual([]); // it has e2 and everything before
    const e3 = await stream.publish('e3');
    await sleep(50);
    expect(idsIn(late.writes)).toEqual([`id: ${e3}`]);
    await stream.close('server-closed');
  });

  it('a replay from before the held events sends each of them once', async () => {
    const { stream } = await busyStream();
    const e0 = await stream.publish('e0');
    const e1 = await stream.publish('e1'); // held
    const e2 = await stream.publish('e2');
    const late = recorder();
    await stream.attach(new Subscriber(late, info('late')), e0);
    await sleep(50);
    expect(idsIn(late.writes)).toEqual([`id: ${e1}`, `id: ${e2}`]);
    await stream.close('server-closed');
  });

  it('leaves no timer armed after close(), even for an event that arrives during it', async () => {
    const { broker, stream } = await busyStream(5000);
    await stream.publish('e0');
    await stream.publish('e1'); // held, for up to 5 s
    const closing = stream.close('server-closed');
    // Another publisher on the same broker, before the stream has stopped listening.
    broker.tryPublish('s', { body: 'data: late\n\n' }, settings(broker).limits);
    await closing;
    expect((stream as unknown as { flushTimer?: unknown }).flushTimer).toBeUndefined();
  });

  it('joins at most a quarter of maxQueuedBytes into one write, so joining cannot look slow', async () => {
    const broker = new MemoryBroker();
    const stream = new Stream('s', { ...settings(broker), maxQueuedBytes: 16 * 1024 });
    await stream.ready;
    const crowd = Array.from({ length: 20 }, () => recorder(0.1));
    for (const [i, c] of crowd.entries())
      await stream.attach(new Subscriber(c, info(`c${i}`)), undefined);
    for (let i = 0; i < 100; i++) await stream.publish(`${i}:${'x'.repeat(500)}`);
    await sleep(50);
    const sizes = crowd[0]!.writes.map((w) => w.length);
    expect(idsIn(crowd[0]!.writes)).toHaveLength(100);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4 * 1024 + 1000);
    await stream.close('server-closed');
  });
});
