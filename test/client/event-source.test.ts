// ssekit's EventSource beyond the standard's interface: what it does not spend per event.
import { EventSource } from 'ssekit/client';
import { afterEach, describe, expect, test } from 'vitest';
import { browserBuild } from '../support/bundle.js';
import { deferred, type Loopback, loopback, startStream, until } from './helpers.js';

const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('EventSource: events no one listens to', () => {
  test('build no MessageEvent; a listener added later hears the next ones, in order', async () => {
    const noise = Array.from({ length: 500 }, (_, i) => `event: noise\ndata: ${i}\n\n`).join('');
    const listening = deferred();
    const s = await loopback((_req, res) => {
      startStream(res);
      res.write(`${noise}data: first\n\n`);
      // The rest only once the page listens to the noise too.
      listening.promise.then(() => res.end(`${noise}data: second\n\n`));
    });
    servers.push(s);
    const real = globalThis.MessageEvent;
    let built = 0;
    // Count the MessageEvents built, by standing in for the global the EventSource uses.
    class Counted extends (real as new (type: string, init?: MessageEventInit) => MessageEvent) {
      constructor(type: string, init?: MessageEventInit) {
        super(type, init);
        built++;
      }
    }
    globalThis.MessageEvent = Counted as typeof MessageEvent;
    try {
      const es = new EventSource(s.origin);
      const got: string[] = [];
      es.onmessage = (e) => {
        got.push(`message ${e.data}`);
        if (e.data === 'first') {
          expect(built).toBe(1); // 500 noise events went by before it: none was built
          es.addEventListener('noise', (n) => got.push(`noise ${n.data}`));
          listening.resolve();
        }
        if (e.data === 'second') es.close();
      };
      await until(() => es.readyState === EventSource.CLOSED, 'the second message');
      expect(got).toEqual([
        'message first',
        ...Array.from({ length: 500 }, (_, i) => `noise ${i}`),
        'message second',
      ]);
      expect(built).toBe(502);
    } finally {
      globalThis.MessageEvent = real;
    }
  });
});

describe('EventSource: listeners added while events of their type stream in', () => {
  test('a listener added after unheard events of a type hears the next ones of that type', async () => {
    const noise = (batch: string) =>
      Array.from({ length: 100 }, (_, i) => `event: noise\ndata: ${batch}-${i}\n\n`).join('');
    const listening = deferred();
    const s = await loopback((_req, res) => {
      startStream(res);
      // The last event the client sees before a listener for "noise" is added is a noise event.
      res.write(`data: first\n\n${noise('b1')}`);
      listening.promise.then(() => res.end(`${noise('b2')}data: second\n\n`));
    });
    servers.push(s);
    const es = new EventSource(s.origin);
    const heard: string[] = [];
    es.onmessage = (e) => {
      if (e.data === 'first') {
        // After the rest of the chunk: its noise events have gone by unheard.
        setTimeout(() => {
          es.addEventListener('noise', (n) => heard.push((n as MessageEvent).data));
          listening.resolve();
        }, 0);
      }
      if (e.data === 'second') es.close();
    };
    await until(() => es.readyState === EventSource.CLOSED, 'the second message');
    expect(heard.filter((d) => d.startsWith('b2'))).toEqual(
      Array.from({ length: 100 }, (_, i) => `b2-${i}`),
    );
  });

  test('a type that is not a string is the string a listener is keyed by', async () => {
    const s = await loopback((_req, res) => {
      startStream(res);
      res.end('event: 5\ndata: five\n\n');
    });
    servers.push(s);
    const es = new EventSource(s.origin);
    const heard: string[] = [];
    es.addEventListener(5 as unknown as string, (e) => {
      heard.push((e as MessageEvent).data);
      es.close();
    });
    await until(() => heard.length === 1, 'the event of type "5"');
    expect(heard).toEqual(['five']);
  });
});

describe('EventSource: construction', () => {
  test('a null init is an empty one, as WebIDL and browsers take it', async () => {
    const s = await loopback((_req, res) => {
      startStream(res);
      res.write('data: hello\n\n');
    });
    servers.push(s);
    const es = new EventSource(s.origin, null);
    const got: string[] = [];
    es.onmessage = (e) => got.push(e.data);
    await until(() => got.length === 1, 'the first event');
    expect(got).toEqual(['hello']);
    expect(es.withCredentials).toBe(false);
    es.close();
  });
});

describe('EventSource: the interface as WebIDL defines it', () => {
  test('CONNECTING, OPEN and CLOSED are read-only on the interface and its prototype', () => {
    for (const target of [EventSource, EventSource.prototype]) {
      for (const [name, value] of [
        ['CONNECTING', 0],
        ['OPEN', 1],
        ['CLOSED', 2],
      ] as const) {
        expect(Object.getOwnPropertyDescriptor(target, name)).toEqual({
          value,
          writable: false,
          enumerable: true,
          configurable: false,
        });
      }
    }
    expect(() => {
      (EventSource as { CLOSED: number }).CLOSED = 5;
    }).toThrow(TypeError);
  });
});

describe('the browser bundle', () => {
  test('needs no syntax newer than the browsers the README names (Chrome 91, Firefox 90, Safari 15)', async () => {
    const { build } = await import('esbuild');
    const bundle = async (target: string[]) =>
      (await build(browserBuild(target))).outputFiles![0]!.text;
    // Built for ES2022 as shipped, and again for those browsers too: any syntax they lack
    // (a class static block, say) would be rewritten, so the two would differ.
    const shipped = await bundle(['es2022']);
    const lowered = await bundle(['es2022', 'chrome91', 'edge91', 'firefox90', 'safari15']);
    expect(shipped === lowered, 'building for those browsers rewrote some syntax').toBe(true);
  });
});
