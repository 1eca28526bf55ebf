import type { ReconnectOptions } from './types.js';

export interface BackoffSettings {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  jitter: number;
  maxRetries: number;
}

export function backoffSettings(opts: ReconnectOptions = {}): BackoffSettings {
  const s = {
    initialDelayMs: opts.initialDelayMs ?? 1000,
    maxDelayMs: opts.maxDelayMs ?? 30_000,
    multiplier: opts.multiplier ?? 2,
    jitter: opts.jitter ?? 0.2,
    maxRetries: opts.maxRetries ?? Infinity,
  };
  for (const [name, value] of Object.entries(s)) {
    // jitter is a fraction of the delay: 0..1
    if (!(value >= 0) || (name === 'jitter' && value > 1)) {
      throw new RangeError(`reconnect.${name}: ${value} is out of range`);
    }
  }
  return s;
}

/** The base consecutive failures grow from when the base is 0, which would never grow. */
export const ZERO_BASE_GROWTH_MS = 100;

/**
 * The delay before retry `attempt` (0-based, failures since the last successful connect):
 * `min(maxDelayMs, base × multiplier^attempt)`, varied by ±jitter. `base` is the server's last
 * `retry` value, or `initialDelayMs` when it sent none. A base of 0 ("reconnect at once") holds
 * for the first retry only: later ones grow from ZERO_BASE_GROWTH_MS, so a server that says
 * `retry: 0` and then closes every connection at once gets no hot loop.
 */
export function backoffDelay(
  s: BackoffSettings,
  attempt: number,
  serverRetryMs: number | undefined,
  random: () => number = Math.random,
): number {
  let base = serverRetryMs ?? s.initialDelayMs;
  if (base === 0 && attempt > 0) base = ZERO_BASE_GROWTH_MS;
  const delay = Math.min(s.maxDelayMs, base * s.multiplier ** attempt);
  return Math.max(0, Math.round(delay * (1 + s.jitter * (2 * random() - 1))));
}

/** The longest delay a timer takes; a longer one fires at once (it overflows to 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wait `ms`, or less if `signal` aborts; the timer never outlives the wait. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener('abort', done);
  });
}
