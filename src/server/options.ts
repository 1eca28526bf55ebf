import { InvalidOptionError } from './errors.js';
import type { ServerOptions, StreamOptions } from './types.js';

/** The longest delay a timer takes; past it, node fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Refuse option values that would otherwise fail later and quietly: a `retry:` line clients
 * ignore, a keep-alive timer that fires every millisecond, a history or queue bound that is no
 * number at all.
 */
export function checkOptions(options: ServerOptions): void {
  checkWhole('retryMs', options.retryMs, 0, MAX_TIMER_MS);
  checkNumber('keepAliveMs', options.keepAliveMs, 0, MAX_TIMER_MS);
  checkNumber('maxQueuedBytes', options.maxQueuedBytes, 1);
  checkNumber('maxWriteDelayMs', options.maxWriteDelayMs, 0, MAX_TIMER_MS);
  checkStreamOptions(options);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // Else every subscribe request would fail as it writes its headers.
    if (
      !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) ||
      !/^[\t\x20-\x7e\x80-\xff]*$/.test(String(value))
    ) {
      throw new InvalidOptionError(
        'headers',
        `has ${JSON.stringify(name)}: ${describe(value)}, which is no valid HTTP header (a name is a token; a value has no CR, LF or NUL).`,
      );
    }
  }
  if (options.resetEvent != null && !/^[^\r\n]*$/.test(String(options.resetEvent))) {
    throw new InvalidOptionError(
      'resetEvent',
      'must not contain CR or LF: it becomes the "event:" line.',
    );
  }
}

export function checkStreamOptions(opts: StreamOptions): void {
  checkNumber('eventTTL', opts.eventTTL, 1);
  if (!opts.history) return;
  // Counts may be Infinity (no bound), like the ages.
  checkWhole('history.maxEvents', opts.history.maxEvents, 0, Number.POSITIVE_INFINITY);
  checkNumber('history.maxAgeMs', opts.history.maxAgeMs, 1);
}

function checkNumber(
  name: string,
  value: unknown,
  min: number,
  max = Number.POSITIVE_INFINITY,
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new InvalidOptionError(
      name,
      `must be a number from ${min} to ${max}, got ${describe(value)}.`,
    );
  }
}

function checkWhole(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  const whole = typeof value === 'number' && (Number.isSafeInteger(value) || value === max);
  if (!whole || !(value >= min && value <= max)) {
    throw new InvalidOptionError(
      name,
      `must be a whole number from ${min} to ${max}, got ${describe(value)}.`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
