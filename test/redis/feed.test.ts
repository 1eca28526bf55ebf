/**
 * The live feed's catch-up reads history a page at a time (RedisBroker reads at most 500
 * events per call, so a long outage never becomes one huge reply): every page is delivered, in
 * order, each event once, before the feed trusts a read as whole.
 */
import { describe, expect, it } from 'vitest';
import type { BrokerEvent } from '../../src/broker/types.js';
import { type HeadRead, LiveFeed } from '../../src/redis/feed.js';

const PAGE = 100;

/** A stream's history as Redis would answer the feed's reads, one page at a time. */
function pagedHistory() {
  const events: BrokerEvent[] = [];
  let epoch: string | null = null;
  const reads: Array<number | null> = [];
  return {
    reads,
    publish(count: number): BrokerEvent {
      epoch ??= 'e1';
      for (let i = 0; i < count; i++) {
        const seq = events.length + 1;
        events.push({ seq, id: `${seq}`, time: 0, body: `data: ${seq}\n\n` });
      }
      return events[events.length - 1] as BrokerEvent;
    },
    read: async (asked: string | null, after: number | null): Promise<HeadRead> => {
      reads.push(after);
      const head = events.length;
      if (epoch === null) return { epoch: null, base: 0, head: 0, events: [] };
      if (after === null) return { epoch, base: 0, head, events: [] };
      const from = asked === epoch ? after : 0;
      return { epoch, base: 0, head, events: events.filter((e) => e.seq > from).slice(0, PAGE) };
    },
  };
}

describe('LiveFeed catch-up', () => {
  it('reads a long history page by page and delivers every event once, in order', async () => {
    const history = pagedHistory();
    const feed = new LiveFeed(history.read, (err) => {
      throw err;
    });
    const seqs: number[] = [];
    const gaps: string[] = [];
    feed.listeners.add({ onEvent: (e) => seqs.push(e.seq), onGap: (r) => gaps.push(r) });
    await feed.start();

    // 1,234 events this process never heard of live, then one that it does: it must catch up.
    history.publish(1234);
    const last = history.publish(1);
    feed.push(`${last.seq}\ne1\n0\n${last.id}\n${last.body}`);
    for (let i = 0; i < 100 && seqs.length < 1235; i++) await new Promise((r) => setTimeout(r, 5));

    expect(seqs).toEqual(Array.from({ length: 1235 }, (_, i) => i + 1));
    expect(gaps).toEqual([]);
    // The head once, then 13 pages, each after the last event delivered.
    expect(history.reads).toEqual([
      null,
      0,
      ...Array.from({ length: 12 }, (_, i) => (i + 1) * PAGE),
    ]);
    // And it goes on live from there.
    const next = history.publish(1);
    feed.push(`${next.seq}\ne1\n0\n${next.id}\n${next.body}`);
    expect(seqs[seqs.length - 1]).toBe(1236);
    feed.stop();
  });
});
