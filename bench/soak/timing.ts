/**
 * Instruments for the soak's server processes: how long each broker call waits, and how late
 * the event loop runs. A queue shows up here as waiting without CPU; a busy loop as lag.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Broker } from '../../src/broker/types.js';

/** Durations (ms) of one kind of call since the last `take`. */
export class Timings {
  private values: number[] = [];
  private inflight = 0;

  async time<T>(call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    this.inflight++;
    try {
      return await call();
    } finally {
      this.inflight--;
      this.values.push(performance.now() - start);
    }
  }

  /** count, p50, p99, max (ms) and calls still in flight; then starts afresh. */
  take(): { n: number; p50: number; p99: number; max: number; inflight: number } {
    const v = this.values.sort((a, b) => a - b);
    this.values = [];
    const at = (p: number) =>
      +(v[Math.min(v.length - 1, Math.floor(v.length * p))] ?? 0).toFixed(1);
    return { n: v.length, p50: at(0.5), p99: at(0.99), max: at(1), inflight: this.inflight };
  }
}

/** The broker, with its `publish` and `history` calls timed. */
export function timedBroker(broker: Broker) {
  const publish = new Timings();
  const history = new Timings();
  const timed: Broker = {
    publish: (s, m, l) => publish.time(() => broker.publish(s, m, l)),
    tryPublish: (s, m, l) => broker.tryPublish(s, m, l),
    history: (s, id, l) => history.time(() => broker.history(s, id, l)),
    listen: (s, l) => broker.listen(s, l),
    drop: (s) => broker.drop?.(s) ?? Promise.resolve(),
    close: () => broker.close(),
  };
  return { broker: timed, publish, history };
}

/** Event-loop lag (ms): p99 and max since the last `take`. */
export function loopLag() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    take() {
      const r = { p99: +(h.percentile(99) / 1e6).toFixed(1), max: +(h.max / 1e6).toFixed(1) };
      h.reset();
      return r;
    },
  };
}
