import { expect, it } from 'vitest';
import { openStream } from '../server/loopback.js';
import { runExample } from './run-example.js';

it('examples/express streams posted messages through compression and shuts down cleanly', async () => {
  const ex = await runExample('express');
  const s = await openStream(ex.url, { 'Accept-Encoding': 'gzip' });
  try {
    expect(s.status).toBe(200);
    const expected = [];
    for (const text of ['hello', 'two\nlines', 'ünïcødé']) {
      const res = await fetch(`${ex.origin}/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: text,
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      expected.push({ id, event: 'message', data: text });
      // Each arrives before the next is posted: compression does not hold events back.
      expect(await s.log.take(expected.length)).toEqual(expected);
    }
    expect(await ex.stop()).toBe(0);
    await s.log.closed();
    expect(s.log.complete).toBe(true);
  } finally {
    s.close();
    await ex.stop();
  }
});
