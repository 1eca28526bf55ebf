import { EventSource } from 'eventsource';
import { describe, it } from 'vitest';
import { type Received, reconnectScenario } from './scenario.js';

describe('the npm eventsource package (v4)', () => {
  it('gets every event in order and resumes after a cut and a restart with no loss or duplicate', () =>
    reconnectScenario(async (_origin, url) => {
      const received: Received[] = [];
      const es = new EventSource(url);
      const record = (e: MessageEvent) =>
        received.push({ id: e.lastEventId, event: e.type, data: e.data as string });
      es.addEventListener('message', record);
      es.addEventListener('update', record);
      es.addEventListener('reset', record);
      return { received: () => received, close: () => es.close() };
    }));
});
