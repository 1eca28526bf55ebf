import type { BrokerEvent } from '../broker/types.js';

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

/** A `reset` event: no `id` line, so a client that drops right after it asks from the same place. */
export function resetText(type: string, reason: string, lastEventId: string): string {
  const data = JSON.stringify({ reason, lastEventId: lastEventId.slice(0, 1024) });
  return `event: ${type}\ndata: ${data}\n\n`;
}
