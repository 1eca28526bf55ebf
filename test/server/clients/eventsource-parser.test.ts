import http from 'node:http';
import { createParser } from 'eventsource-parser';
import { describe, it } from 'vitest';
import { type Received, reconnectScenario } from './scenario.js';

/**
 * The smallest honest reconnecting client: node:http for bytes, eventsource-parser for events,
 * Last-Event-ID and the server's retry on every reconnect.
 */
function rawClient(url: string) {
  const received: Received[] = [];
  let lastEventId = '';
  let retryMs = 1000;
  let closed = false;
  let req: http.ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;
  const connect = () => {
    const parser = createParser({
      onEvent(e) {
        if (e.id !== undefined) lastEventId = e.id;
        received.push({ id: lastEventId, event: e.event ?? 'message', data: e.data });
      },
      onRetry(ms) {
        retryMs = ms;
      },
    });
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (lastEventId !== '') headers['Last-Event-ID'] = lastEventId;
    req = http.get(url, { headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
      res.on('close', again);
    });
    req.on('error', again);
  };
  // Called by both 'close' and 'error' of one attempt: reconnect once.
  let pending = false;
  function again() {
    if (closed || pending) return;
    pending = true;
    timer = setTimeout(() => {
      pending = false;
      connect();
    }, retryMs);
  }
  connect();
  return {
    received: () => received,
    close() {
      closed = true;
      clearTimeout(timer);
      req?.destroy();
    },
  };
}

describe('node:http with eventsource-parser', () => {
  it('gets every event in order and resumes after a cut and a restart with no loss or duplicate', () =>
    reconnectScenario(async (_origin, url) => rawClient(url)));
});
