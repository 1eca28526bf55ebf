import type { ServerOptions, StreamOptions } from './types.js';

/**
 * Refuse option values that would otherwise fail later and quietly: a `retry:` line clients
 * ignore, a keep-alive timer that fires constantly, a queue bound that cuts every subscriber.
 */
export function checkOptions(options: ServerOptions): void {
  whole('retryMs', options.retryMs, 0);
  number('keepAliveMs', options.keepAliveMs, 0);
  number('maxQueuedBytes', options.maxQueuedBytes, 1);
  number('eventTTL', options.eventTTL, 1);
  checkHistory(options.history);
  if (options.resetEvent != null && /[\r\n]/.test(options.resetEvent)) {
    throw new TypeError('resetEvent must not contain CR or LF: it becomes the "event:" line.');
  }
}

export function checkStreamOptions(opts: StreamOptions): void {
  number('eventTTL', opts.eventTTL, 1);
  checkHistory(opts.history);
}

function checkHistory(history: ServerOptions['history']): void {
  if (!history) return;
  whole('history.maxEvents', history.maxEvents, 0);
  number('history.maxAgeMs', history.maxAgeMs, 1);
}

function number(name: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new TypeError(`${name} must be a number of at least ${min}, got ${describe(value)}.`);
  }
}

function whole(name: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(
      `${name} must be a whole number of at least ${min}, got ${describe(value)}.`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
