/**
 * The window of recent events a RedisBroker process answers short resumes from: bounded in
 * events and bytes, always contiguous, and only trusted within Redis's own bounds.
 */
import { describe, expect, it } from 'vitest';
import type { BrokerEvent, HistoryLimits } from '../../src/broker/types.js';
import { RecentEvents } from '../../src/redis/recent.js';

const EPOCH = '0123456789';
const limits: HistoryLimits = { maxEvents: 1000, maxAgeMs: Number.POSITIVE_INFINITY };
const event = (seq: number, id = `${seq}-${EPOCH}`, size = 10): BrokerEvent => ({
  seq,
  id,
  time: Date.now(),
  body: 'x'.repeat(size),
});
const seqs = (r: { events: BrokerEvent[] } | undefined) => r?.events.map((e) => e.seq);

describe('RecentEvents', () => {
  it('keeps the newest maxEvents and answers with the events after a held id', () => {
    const w = new RecentEvents({ maxEvents: 3, maxBytes: 1000 });
    for (let s = 1; s <= 5; s++) w.add(event(s));
    expect(w.after(`2-${EPOCH}`, limits, 1000)).toBeUndefined();
    expect(seqs(w.after(`3-${EPOCH}`, limits, 1000))).toEqual([4, 5]);
    expect(seqs(w.after(`5-${EPOCH}`, limits, 1000))).toEqual([]);
    expect(w.after('never', limits, 1000)).toBeUndefined();
  });

  it('keeps no more than maxBytes, and nothing of an event larger than that', () => {
    const w = new RecentEvents({ maxEvents: 100, maxBytes: 25 });
    for (let s = 1; s <= 4; s++) w.add(event(s));
    expect(w.after(`2-${EPOCH}`, limits, 1000)).toBeUndefined();
    expect(seqs(w.after(`3-${EPOCH}`, limits, 1000))).toEqual([4]);
    w.add(event(5, undefined, 26));
    expect(w.after(`4-${EPOCH}`, limits, 1000)).toBeUndefined();
    expect(w.after(`5-${EPOCH}`, limits, 1000)).toBeUndefined();
    w.add(event(6));
    expect(seqs(w.after(`6-${EPOCH}`, limits, 1000))).toEqual([]);
  });

  it('starts afresh at a jump in seq, so it never bridges a gap', () => {
    const w = new RecentEvents({ maxEvents: 10, maxBytes: 1000 });
    w.add(event(1));
    w.add(event(2));
    w.add(event(7));
    expect(w.after(`2-${EPOCH}`, limits, 1000)).toBeUndefined();
    expect(seqs(w.after(`7-${EPOCH}`, limits, 1000))).toEqual([]);
  });

  it("finds a publisher's own id, the newest that carries it, as Redis does", () => {
    const w = new RecentEvents({ maxEvents: 10, maxBytes: 1000 });
    w.add(event(1, 'order-1'));
    w.add(event(2, 'dup'));
    w.add(event(3, 'dup'));
    w.add(event(4));
    expect(seqs(w.after('order-1', limits, 1000))).toEqual([2, 3, 4]);
    expect(seqs(w.after('dup', limits, 1000))).toEqual([4]);
  });

  it("leaves ids Redis's bounds may have dropped to Redis", () => {
    const w = new RecentEvents({ maxEvents: 10, maxBytes: 1000 });
    for (let s = 1; s <= 5; s++) w.add(event(s));
    // Redis keeps the newest 3: the 2nd is gone there, the 3rd still held.
    expect(w.after(`2-${EPOCH}`, limits, 3)).toBeUndefined();
    expect(seqs(w.after(`3-${EPOCH}`, limits, 3))).toEqual([4, 5]);
    // An event about to pass maxAgeMs (within the clock margin) is Redis's to judge.
    const aged = { maxEvents: 1000, maxAgeMs: 500 };
    expect(w.after(`3-${EPOCH}`, aged, 1000)).toBeUndefined();
  });
});
