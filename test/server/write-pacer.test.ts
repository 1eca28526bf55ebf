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

describe('WritePacer', () => {
  it('holds nothing for the first ticks, nor while ticks come further apart than 4/3 of a fan-out', () => {
    const pacer = new WritePacer(20);
    expect(pacer.arrived(0)).toBe(0);
    pacer.wrote(1);
    for (let t = 10; t <= 100; t += 10) expect(pacer.arrived(t)).toBe(0);
    pacer.wrote(7); // a fan-out 7/10 of the gap
    expect(pacer.arrived(110)).toBe(0);
  });

  it('holds for about one fan-out, in whole ms from 1 to the maximum, once ticks come faster', () => {
    const pacer = new WritePacer(20);
    pacer.arrived(0);
    pacer.wrote(0.3);
    expect(pacer.arrived(0.3)).toBe(1); // at least what a timer takes
    pacer.wrote(4.2);
    expect(pacer.arrived(0.6)).toBe(5);
    pacer.wrote(300);
    expect(pacer.arrived(0.9)).toBe(20);
  });

  it('follows the average gap: one late tick does not end holding, a lasting slowdown does', () => {
    const pacer = new WritePacer(20);
    pacer.arrived(0);
    pacer.wrote(2);
    let t = 0;
    for (let i = 0; i < 20; i++) expect(pacer.arrived((t += 1))).toBeGreaterThan(0);
    expect(pacer.arrived((t += 5))).toBeGreaterThan(0);
    for (let i = 0; i < 30; i++) pacer.arrived((t += 10));
    expect(pacer.arrived((t += 10))).toBe(0);
  });

  it('never holds with maxWriteDelayMs 0, nor after reset()', () => {
    const off = new WritePacer(0);
    off.arrived(0);
    off.wrote(100);
    expect(off.arrived(0.1)).toBe(0);
    const pacer = new WritePacer(20);
    pacer.arrived(0);
    pacer.wrote(100);
    pacer.reset();
    expect(pacer.arrived(0.1)).toBe(0);
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
