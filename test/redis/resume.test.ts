/**
 * Resuming with Last-Event-ID through RedisBroker: recent ids are answered from the events the
 * process already received live, older ones from Redis, identical concurrent reads are shared,
 * and whichever way, every subscriber gets exactly the events after its id, in order.
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventParser, type SSEEvent } from 'ssekit/protocol';
import type { RedisBroker } from 'ssekit/redis';
import { SSEServer } from 'ssekit/server';
import { describe, expect, it } from 'vitest';
import type { BrokerEvent, HistoryLimits } from '../../src/broker/types.js';
import { requireTool } from '../support/env.js';
import { privateRedis } from './private-redis.js';
import { haveRedis, type RedisServer, until } from './redis-server.js';

const limits: HistoryLimits = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
const body = (data: string) => `data: ${data}\n\n`;
const quiet = () => {};

/** EVALSHA calls Redis has run so far (each history read or publish is one; not the head check). */
async function scriptCalls(redis: RedisServer): Promise<number> {
  const stats = await redis.cli('INFO', 'commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** Listens to a stream and resolves once `count` events have arrived through the broker. */
async function received(b: RedisBroker, stream: string, count: number) {
  const events: BrokerEvent[] = [];
  const unlisten = await b.listen(stream, { onEvent: (e) => events.push(e) });
  return {
    events,
    unlisten,
    arrived: () => until(() => events.length >= count, 10_000, `${count} live events`),
  };
}

/** An SSE subscriber over raw node:http that resumes from `lastEventId` and records all. */
function subscribe(port: number, stream: string, lastEventId: string) {
  const events: SSEEvent[] = [];
  const parser = new EventParser({ onEvent: (e) => events.push(e) });
  const req = get({
    host: '127.0.0.1',
    port,
    path: `/?stream=${stream}`,
    headers: { 'last-event-id': lastEventId },
  });
  req.on('response', (res) => res.on('data', (c: Buffer) => parser.feed(c)));
  req.on('error', quiet);
  return { lastEventId, events, close: () => req.destroy() };
}

describe.runIf(requireTool('redis-server', haveRedis))('resuming through RedisBroker', () => {
  const env = privateRedis({ onError: quiet });
  const { broker } = env;

  it('answers a resume from an event this process received live without a history read in Redis', async () => {
    const b = broker({ resumeCache: { maxEvents: 5 } });
    const live = await received(b, 'recent', 8);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await b.publish('recent', { body: body(`${i}`) }, limits));
    await live.arrived();
    const before = await scriptCalls(env.redis);
    // The newest five are held: resuming from the oldest of them, or the newest, reads no history.
    const fromHeld = await b.history('recent', ids[3]!, limits);
    expect(fromHeld).toEqual({ resumable: true, events: live.events.slice(4) });
    expect(await b.history('recent', ids[7]!, limits)).toEqual({ resumable: true, events: [] });
    expect(await scriptCalls(env.redis)).toBe(before);
    // An older id is Redis's to answer, with the same events a held one would get.
    const fromOlder = await b.history('recent', ids[1]!, limits);
    expect(fromOlder).toEqual({ resumable: true, events: live.events.slice(2) });
    expect(await scriptCalls(env.redis)).toBe(before + 1);
    await live.unlisten();
  });

  it("does not resume from memory an id that Redis's history bounds have dropped", async () => {
    const b = broker({ resumeCache: { maxEvents: 10 } });
    const live = await received(b, 'bounded', 6);
    const small = { ...limits, maxEvents: 3 };
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await b.publish('bounded', { body: body(`${i}`) }, small));
    await live.arrived();
    // ids[1] is in this process's window, but Redis keeps only the newest 3: it is evicted.
    const r = await b.history('bounded', ids[1]!, small);
    expect(r).toEqual({
      resumable: false,
      reason: 'evicted',
      events: live.events.slice(3),
    });
    await live.unlisten();
  });

  it('says a held id cannot be resumed once Redis has lost the history, before this process has heard of it', async () => {
    const b = broker();
    const live = await received(b, 'flushed', 2);
    const ids = [
      await b.publish('flushed', { body: body('1') }, limits),
      await b.publish('flushed', { body: body('2') }, limits),
    ];
    await live.arrived();
    await env.redis.cli('FLUSHALL');
    // Nothing was published since: this process still holds both events, but Redis does not.
    const r = await b.history('flushed', ids[0]!, limits);
    expect(r).toEqual({
      resumable: false,
      reason: 'unknown',
      events: [],
    });
    await live.unlisten();
  });

  it('shares one Redis read among resumes from the same id that arrive together', async () => {
    const b = broker({ resumeCache: false });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await b.publish('herd', { body: body(`${i}`) }, limits));
    const before = await scriptCalls(env.redis);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => b.history('herd', ids[0]!, limits)),
    );
    expect(await scriptCalls(env.redis)).toBe(before + 1);
    for (const r of results) {
      expect(r.resumable).toBe(true);
      expect(r.events.map((e) => e.id)).toEqual(ids.slice(1));
    }
  });

  it('gives each of many concurrent resumes exactly the events after its id while publishing goes on', async () => {
    // Two servers on one Redis: one serves the subscribers, the other publishes too.
    const serving = broker({ resumeCache: { maxEvents: 40 } });
    const other = broker();
    const sse = new SSEServer({ broker: serving, keepAliveMs: 60_000 });
    await sse.createStream('many').ready;
    const http: Server = createServer(sse.handler);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) ids.push(await sse.publish('many', `e${i}`));
      // The serving process has received them live: its window holds the newest 40.
      const probe = subscribe(port, 'many', ids[98]!);
      await until(() => probe.events.length === 1, 10_000, 'the probe');
      probe.close();

      // 100 subscribers resume at once from every id (old ones from Redis, recent ones from
      // memory) and two from ids the stream never issued, while 60 more events are published.
      const starts = [...ids, 'never-issued', `${ids[0]!.split('-')[0]}-0000000000`];
      const publishing = (async () => {
        for (let i = 100; i < 160; i++) {
          const via = i % 2 === 0 ? other : serving;
          ids.push(await via.publish('many', { body: body(`e${i}`) }, limits));
        }
      })();
      const subs = starts.map((id) => subscribe(port, 'many', id));
      await publishing;
      const all = ids.map((_, i) => `e${i}`);
      for (const sub of subs) {
        const from = ids.indexOf(sub.lastEventId);
        const want = from === -1 ? ['<reset>', ...all] : all.slice(from + 1);
        await until(
          () => sub.events.length === want.length,
          15_000,
          `the events after ${sub.lastEventId}`,
        );
        expect(sub.events.map((e) => (e.event === 'reset' ? '<reset>' : e.data))).toEqual(want);
        expect(sub.events.filter((e) => e.event !== 'reset').map((e) => e.id)).toEqual(
          ids.slice(from + 1),
        );
        sub.close();
      }
    } finally {
      http.closeAllConnections();
      http.close();
      await sse.close();
    }
  });
});
