// A port of the web-platform-tests `eventsource/` suite to Node: the same behaviours, checked
// against ssekit's EventSource (and, for the stream-format cases, SSEClient), with the Python
// resource handlers rewritten as a loopback node:http server (wpt-server.ts).
import { EventSource, SSEClient, type SSEEvent } from 'ssekit/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Expected, formatCases } from './format-cases.js';
import { deferred, type Loopback, loopback, until } from './helpers.js';
import { wptServer } from './wpt-server.js';

let wpt: Loopback;
let other: Loopback; // a second origin (another port), for cross-origin redirects
beforeAll(async () => {
  wpt = await wptServer();
  other = await wptServer();
});
afterAll(async () => {
  await wpt.close();
  await other.close();
});

const at = (path: string) => `${wpt.origin}${path}`;
const message = (text: string, extra = '') =>
  at(`/message?message=${encodeURIComponent(text)}${extra}`);
const fresh = () => Math.random().toString(36).slice(2);

interface Seen {
  type: string;
  data: string;
  id: string;
}

/** Every event an EventSource dispatches until its first error; then it is closed. */
function recordUntilError(url: string, types: string[]): Promise<{ seen: Seen[]; state: number }> {
  const es = new EventSource(url);
  const seen: Seen[] = [];
  for (const type of new Set(['message', ...types])) {
    es.addEventListener(type, (e) => seen.push({ type: e.type, data: e.data, id: e.lastEventId }));
  }
  return new Promise((resolve) => {
    es.onerror = () => {
      const state = es.readyState;
      es.close();
      resolve({ seen, state });
    };
  });
}

const normalize = (list: Expected[]): Seen[] =>
  list.map((e) => ({ type: e.type ?? 'message', data: e.data, id: e.id ?? '' }));

describe('EventSource: stream format', () => {
  formatCases.forEach((c, i) => {
    test(c.name, async () => {
      const { seen, state } = await recordUntilError(
        at(`/format/${i}`),
        c.expected.map((e) => e.type ?? 'message'),
      );
      expect(seen).toEqual(normalize(c.expected));
      // The stream ended: "reestablish the connection", so readyState is CONNECTING at the error.
      expect(state).toBe(EventSource.CONNECTING);
    });
  });
});

describe('SSEClient: the same stream-format cases', () => {
  formatCases.forEach((c, i) => {
    test(c.name, async () => {
      const seen: Seen[] = [];
      const client = new SSEClient(at(`/format/${i}`), { reconnect: false });
      await client.subscribeRaw((e: SSEEvent) =>
        seen.push({ type: e.event, data: e.data, id: e.id }),
      );
      expect(seen).toEqual(normalize(c.expected));
    });
  });
});

describe('EventSource: interface', () => {
  test('readyState: CONNECTING, then OPEN in onopen, then CLOSED after close()', async () => {
    const es = new EventSource(message('data: x'));
    expect(es.readyState).toBe(es.CONNECTING);
    const opened = deferred<number>();
    es.onopen = () => opened.resolve(es.readyState);
    expect(await opened.promise).toBe(es.OPEN);
    es.close();
    expect(es.readyState).toBe(es.CLOSED);
  });

  test('the readyState constants are on the constructor and on every instance', () => {
    expect([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED]).toEqual([0, 1, 2]);
    const es = new EventSource(message('data: x'));
    expect([es.CONNECTING, es.OPEN, es.CLOSED]).toEqual([0, 1, 2]);
    expect(Object.hasOwn(es, 'OPEN')).toBe(false); // on the prototype, as in the IDL
    es.close();
  });

  test('the prototype can be extended and is an EventTarget', () => {
    const proto = EventSource.prototype as unknown as { answer?: () => number };
    proto.answer = () => 42;
    const es = new EventSource(message('data: x'));
    expect((es as unknown as { answer(): number }).answer()).toBe(42);
    expect(es).toBeInstanceOf(EventTarget);
    delete proto.answer;
    es.close();
  });

  test('url is the parsed absolute URL; the argument is stringified first', () => {
    const es = new EventSource({ toString: () => at('/message?a=1#frag') } as unknown as string);
    expect(es.url).toBe(at('/message?a=1#frag'));
    expect(es.withCredentials).toBe(false);
    es.close();
    const cred = new EventSource(new URL(at('/message')), { withCredentials: true });
    expect(cred.url).toBe(at('/message'));
    expect(cred.withCredentials).toBe(true);
    cred.close();
  });

  test('an invalid URL throws a SyntaxError DOMException', () => {
    let error: unknown;
    try {
      new EventSource('http://this is invalid/');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('SyntaxError');
  });

  test('open and error are plain Events that neither bubble nor cancel; messages are MessageEvents', async () => {
    const es = new EventSource(message('id: 3\ndata: hello'));
    const log: Event[] = [];
    es.onopen = (e) => log.push(e);
    es.onmessage = (e) => log.push(e);
    const errored = deferred();
    es.onerror = (e) => {
      log.push(e);
      es.close();
      errored.resolve();
    };
    await errored.promise;
    expect(log.map((e) => e.type)).toEqual(['open', 'message', 'error']);
    const [open, msg, error] = log as [Event, MessageEvent, Event];
    for (const e of [open, error]) {
      expect(e).not.toBeInstanceOf(MessageEvent);
      expect('data' in e).toBe(false);
      expect([e.bubbles, e.cancelable]).toEqual([false, false]);
    }
    expect(msg).toBeInstanceOf(MessageEvent);
    expect([msg.data, msg.lastEventId, msg.origin]).toEqual(['hello', '3', wpt.origin]);
    expect([msg.bubbles, msg.cancelable]).toEqual([false, false]);
  });

  test('addEventListener, removeEventListener and dispatchEvent work as on any EventTarget', async () => {
    const es = new EventSource(message('data: a\n\ndata: b'));
    const heard: string[] = [];
    const removed = () => heard.push('removed listener ran');
    es.addEventListener('message', removed);
    es.removeEventListener('message', removed);
    es.addEventListener('message', (e) => heard.push(`listener ${e.data}`));
    es.onmessage = (e) => heard.push(`onmessage ${e.data}`);
    es.dispatchEvent(new MessageEvent('message', { data: 'synthetic' }));
    const done = deferred();
    es.onerror = () => {
      es.close();
      done.resolve();
    };
    await done.promise;
    expect(heard).toEqual([
      'listener synthetic',
      'onmessage synthetic',
      'listener a',
      'onmessage a',
      'listener b',
      'onmessage b',
    ]);
  });

  test('setting onmessage to null (or a non-function) removes it', async () => {
    const es = new EventSource(message('data: a'));
    const heard: string[] = [];
    es.onmessage = () => heard.push('first');
    es.onmessage = null;
    expect(es.onmessage).toBe(null);
    es.onmessage = 'not callable' as unknown as null;
    expect(es.onmessage).toBe(null);
    es.addEventListener('message', () => heard.push('listener'));
    const done = deferred();
    es.onerror = () => {
      es.close();
      done.resolve();
    };
    await done.promise;
    expect(heard).toEqual(['listener']);
  });

  test('named events reach their own listeners, not onmessage', async () => {
    const es = new EventSource(message('event: ping\ndata: 1\n\nevent: message\ndata: 2'));
    const heard: string[] = [];
    es.onmessage = (e) => heard.push(`message ${e.data}`);
    es.addEventListener('ping', (e) => heard.push(`ping ${e.data}`));
    const done = deferred();
    es.onerror = () => {
      es.close();
      done.resolve();
    };
    await done.promise;
    expect(heard).toEqual(['ping 1', 'message 2']);
  });

  test('close() in a message listener stops the events that follow in the same chunk', async () => {
    const es = new EventSource(message('data: 1\n\ndata: 2\n\ndata: 3'));
    const heard: string[] = [];
    es.onmessage = (e) => {
      heard.push(e.data);
      es.close();
    };
    await until(() => heard.length > 0, 'the first message');
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual(['1']);
    expect(es.readyState).toBe(EventSource.CLOSED);
  });
});

describe('EventSource: requests', () => {
  test('asks for text/event-stream', async () => {
    const { seen } = await recordUntilError(at('/echo-header?name=accept'), []);
    expect(seen.map((e) => e.data)).toEqual(['text/event-stream']);
  });

  test('asks caches not to answer (Cache-Control: no-cache), on every connect', async () => {
    const { seen } = await recordUntilError(at('/echo-header?name=cache-control'), []);
    expect(seen.map((e) => e.data)).toEqual(['no-cache']);
  });

  test('sends the headers option; a headers function is called before every connect', async () => {
    let calls = 0;
    const es = new EventSource(at('/echo-header?name=x-token'), {
      headers: async () => ({ 'x-token': `t${++calls}` }),
    });
    const heard: string[] = [];
    es.addEventListener('message', (e) => {
      heard.push(e.data);
      if (heard.length === 2) es.close();
    });
    await until(() => heard.length === 2, 'two connections');
    expect(heard).toEqual(['t1', 't2']);
  });

  test('uses the fetch option for every request', async () => {
    const urls: string[] = [];
    const es = new EventSource(message('data: via custom fetch'), {
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });
    const got = deferred<string>();
    es.onmessage = (e) => {
      es.close();
      got.resolve(e.data);
    };
    expect(await got.promise).toBe('via custom fetch');
    expect(urls).toEqual([es.url]);
  });

  for (const status of [204, 205, 210, 299, 404, 410, 500, 503]) {
    test(`HTTP ${status} fails the connection: error with readyState CLOSED, no message, no retry`, async () => {
      const before = wpt.requests.length;
      const { seen, state } = await recordUntilError(at(`/status?status=${status}`), []);
      expect(seen).toEqual([]);
      expect(state).toBe(EventSource.CLOSED);
      await new Promise((r) => setTimeout(r, 50));
      expect(wpt.requests.length - before).toBe(1);
    });
  }

  for (const mime of ['text/x-bogus', 'x', 'text/plain', 'text/event-streams']) {
    test(`Content-Type ${mime} fails the connection`, async () => {
      const { seen, state } = await recordUntilError(message('data: x', `&mime=${mime}`), []);
      expect(seen).toEqual([]);
      expect(state).toBe(EventSource.CLOSED);
    });
  }

  for (const status of [301, 302, 303, 307, 308]) {
    test(`a ${status} redirect is followed; origin is the final URL's, url stays the one given`, async () => {
      const target = `${other.origin}/message?message=${encodeURIComponent('data: moved')}`;
      const url = at(`/redirect?status=${status}&location=${encodeURIComponent(target)}`);
      const es = new EventSource(url);
      const log: string[] = [];
      es.onopen = () => log.push(`open ${es.readyState}`);
      const got = deferred<MessageEvent>();
      es.onmessage = (e) => {
        es.close();
        got.resolve(e);
      };
      const e = await got.promise;
      expect(log).toEqual([`open ${EventSource.OPEN}`]);
      expect([e.data, e.origin, es.url]).toEqual(['moved', other.origin, url]);
    });
  }

  test('a redirect loop is a network error: error events while it keeps reconnecting', async () => {
    const loop = at(`/redirect?status=302&location=${encodeURIComponent('/redirect?status=302')}`);
    const es = new EventSource(loop);
    const states: number[] = [];
    const errored = deferred();
    es.onerror = () => {
      states.push(es.readyState);
      es.close();
      errored.resolve();
    };
    await errored.promise;
    expect(states).toEqual([EventSource.CONNECTING]);
  });
});

describe('EventSource: reconnection', () => {
  test('reconnects after the stream ends, sending Last-Event-ID', async () => {
    const es = new EventSource(at('/last-event-id'));
    const heard: string[] = [];
    es.onmessage = (e) => {
      heard.push(`${e.data} (${e.lastEventId})`);
      if (heard.length === 2) es.close();
    };
    await until(() => heard.length === 2, 'two messages');
    expect(heard).toEqual(['hello (…)', '… (…)']);
  });

  test('an id with U+0000 is ignored, so the reconnect sends no Last-Event-ID', async () => {
    const es = new EventSource(at('/last-event-id?idvalue=%00%00'));
    const heard: string[] = [];
    es.onmessage = (e) => {
      heard.push(`${e.data} (${e.lastEventId})`);
      if (heard.length === 2) es.close();
    };
    await until(() => heard.length === 2, 'two messages');
    expect(heard).toEqual(['hello ()', 'hello ()']);
  });

  test('a 200 that ends reconnects, with an error event (CONNECTING) in between', async () => {
    const es = new EventSource(at(`/status-reconnect?status=200&ok_first&id=${fresh()}`));
    const log: string[] = [];
    es.onopen = () => log.push('open');
    es.onerror = () => log.push(`error ${es.readyState}`);
    es.onmessage = (e) => {
      log.push(`message ${e.data}`);
      if (e.data === 'data') es.close();
    };
    await until(() => es.readyState === EventSource.CLOSED, 'the second message');
    expect(log).toEqual(['open', 'message ok', 'error 0', 'open', 'message data']);
  });

  test('reconnects until a 204, which fails the connection for good', async () => {
    const es = new EventSource(at(`/reconnect-fail?id=${fresh()}`));
    const log: string[] = [];
    es.onmessage = (e) => log.push(`message ${e.data}`);
    es.onerror = () => log.push(`error ${es.readyState}`);
    await until(() => es.readyState === EventSource.CLOSED, 'the 204');
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toEqual(['message opened', 'error 0', 'message reconnected', 'error 0', 'error 2']);
  });

  test('a network error mid-stream reconnects with the last event id', async () => {
    const es = new EventSource(at(`/drop-after?id=${fresh()}`));
    const log: string[] = [];
    es.onmessage = (e) => {
      log.push(`${e.data} #${e.lastEventId}`);
      if (e.lastEventId === '3') es.close();
    };
    es.onerror = () => log.push(`error ${es.readyState}`);
    await until(() => es.readyState === EventSource.CLOSED, 'three connections');
    expect(log).toEqual(['seen nothing #1', 'error 0', 'seen 1 #2', 'error 0', 'seen 2 #3']);
  });

  test('a refused connection is a network error: error with CONNECTING, not CLOSED', async () => {
    const gone = await loopback(() => {});
    const url = `${gone.origin}/`;
    await gone.close();
    const es = new EventSource(url);
    const state = deferred<number>();
    es.onerror = () => {
      state.resolve(es.readyState);
      es.close();
    };
    expect(await state.promise).toBe(EventSource.CONNECTING);
  });

  test('retry sets the reconnection time, read as a base-ten integer', async () => {
    // "0300" is 300 ms (not octal). Generous bounds: the default would be 3000 ms.
    const es = new EventSource(message('retry: 0300\ndata: x'));
    const opens: number[] = [];
    es.onopen = () => {
      opens.push(performance.now());
      if (opens.length === 2) es.close();
    };
    await until(() => opens.length === 2, 'a reconnect');
    const gap = opens[1]! - opens[0]!;
    expect(gap).toBeGreaterThanOrEqual(250);
    expect(gap).toBeLessThan(2500);
  });

  test('a retry that is not all digits leaves the earlier one in force', async () => {
    const es = new EventSource(message('retry: 200\nretry: 5000x\ndata: x'));
    const opens: number[] = [];
    es.onopen = () => {
      opens.push(performance.now());
      if (opens.length === 2) es.close();
    };
    await until(() => opens.length === 2, 'a reconnect');
    const gap = opens[1]! - opens[0]!;
    expect(gap).toBeGreaterThanOrEqual(150);
    expect(gap).toBeLessThan(2500);
  });

  test('close() while the request is pending: no open, no message, stays CLOSED', async () => {
    const es = new EventSource(message('retry: 10\ndata: abc', '&sleep=200'));
    const log: string[] = [];
    es.onopen = () => log.push('open');
    es.onmessage = () => log.push('message');
    es.onerror = () => log.push('error');
    await new Promise((r) => setTimeout(r, 20));
    es.close();
    await new Promise((r) => setTimeout(r, 400));
    expect(log).toEqual([]);
    expect(es.readyState).toBe(EventSource.CLOSED);
  });
});
