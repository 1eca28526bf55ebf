/**
 * Memory that must stay bounded by what the user configured: a stream's history holds its
 * newest `maxEvents` events and nothing older, whatever the event size. Found by the soak's slow
 * variant, whose server grew by 64 evicted events per stream before the log was compacted.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SSEServer } from 'ssekit/server';
import { describe, expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function liveBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

describe('history memory', () => {
  it('holds no evicted event: 60 events of 256 KB with maxEvents 2 keep about 2 of them', async () => {
    const sse = new SSEServer({ keepAliveMs: 0, history: { maxEvents: 2 } });
    sse.createStream('big');
    const before = liveBytes();
    for (let i = 0; i < 60; i++) {
      // A fresh string each time, so nothing is shared between events.
      await sse.publish('big', `${i}:${'x'.repeat(256 * 1024 - 8)}${i}`);
    }
    const held = liveBytes() - before;
    // Two events are about 0.5 MB (1 MB as UTF-16 at worst); 60 would be 15-30 MB.
    expect(held).toBeLessThan(3 * 1024 * 1024);
    await sse.close();
  });
});
