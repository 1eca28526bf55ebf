import type { BrokerEvent } from '../broker/types.js';
import { encodeEvent } from '../protocol/encode.js';

/** A comment line that keeps idle connections open through proxies; shared by every subscriber. */
export const KEEP_ALIVE = Buffer.from(':\n\n');

/** The wire text of stored events, their id lines put back in front of their bodies. */
export function wireText(events: readonly BrokerEvent[], from = 0): string {
  let out = '';
  for (let i = from; i < events.length; i++) {
    const e = events[i]!;
    out += e.id === '' ? `id:\n${e.body}` : `id: ${e.id}\n${e.body}`;
  }
  return out;
}

/**
 * A `reset` event: no `id` line, so a client that drops right after it asks from the same place.
 * Its data is encoded like every other event's (base64 with `encodeBase64`), so a client that
 * decodes every event can read it. An id longer than 1 KiB is cut there: it is only an echo.
 */
export function resetText(
  type: string,
  reason: string,
  lastEventId: string,
  base64: boolean,
): string {
  const data = JSON.stringify({ reason, lastEventId: lastEventId.slice(0, 1024) });
  return encodeEvent({ event: type, data }, { base64 });
}
