/**
 * A stream that falls behind joins events into fewer writes (`maxWriteDelayMs`): every event
 * still arrives once and in order, held events go out before a close or a reset, and a stream
 * that keeps up writes each event at once. Writes are counted as HTTP/1.1 chunks on a raw socket,
 * which TCP cannot merge or split.
 */
import { connect } from 'node:net';
import { EventParser, type SSEEvent } from 'ssekit/protocol';
import {
  type BrokerListener,
  InvalidOptionError,
  MemoryBroker,
  type ServerOptions,
  SSEServer,
} from 'ssekit/server';
import { describe, expect, it } from 'vitest';
import { sleep } from '../support/http.js';
import { closeAfterTest, startServer } from '../support/server.js';
import { until } from '../support/wait.js';

async function start(options: ServerOptions = {}) {
  const { sse, http } = await startServer(options);
  sse.createStream('s');
  return { sse, port: Number(new URL(http.url).port) };
}

/** A subscriber on a raw socket that keeps each HTTP chunk, i.e. each write, apart. */
interface ChunkReader {
  /** The writes that carried events. */
  chunks: string[];
  events: SSEEvent[];
  /** Resolves at the response's last chunk (the socket itself may stay open). */
  ended: Promise<void>;
}

async function readChunks(port: number): Promise<ChunkReader> {
  const socket = connect(port, '127.0.0.1');
  socket.write('GET /?stream=s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const reader: ChunkReader = { chunks: [], events: [], ended: Promise.resolve() };
  const parser = new EventParser({ onEvent: (e) => reader.events.push(e) });
  let buffer = Buffer.alloc(0);
  let headersDone = false;
  let opened!: () => void;
  let finished!: () => void;
  reader.ended = new Promise((resolve) => {
    finished = resolve;
  });
  const headers = new Promise<void>((resolve) => {
    opened = resolve;
  });
  socket.on('data', (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    if (!headersDone) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      expect(buffer.subarray(0, end).toString()).toMatch(
        /^HTTP\/1\.1 200 .*Transfer-Encoding: chunked/is,
      );
      buffer = buffer.subarray(end + 4);
      headersDone = true;
      opened();
    }
    // Chunked encoding: hex size, CRLF, the bytes, CRLF.
    for (;;) {
      const line = buffer.indexOf('\r\n');
      if (line < 0) return;
      const size = Number.parseInt(buffer.subarray(0, line).toString(), 16);
      if (buffer.length < line + 2 + size + 2) return;
      const chunk = buffer.subarray(line + 2, line + 2 + size);
      buffer = buffer.subarray(line + 2 + size + 2);
      if (size === 0) return finished();
      // The first write opens the stream (a comment); the events' writes are the ones counted.
      if (chunk.includes('data:')) reader.chunks.push(chunk.toString());
      parser.feed(chunk);
    }
  });
  closeAfterTest(() => {
    socket.destroy();
  });
  await headers;
  return reader;
}

/**
 * Enough subscribers that one fan-out takes longer than the gap between back-to-back publishes
 * (each a few socket writes' time), so the stream cannot keep up writing one event at a time.
 */
function crowd(port: number, n = 200): Promise<ChunkReader[]> {
  return Promise.all(Array.from({ length: n }, () => readChunks(port)));
}

/**
 * Publish back to back, each after the previous one's fan-out has run (a microtask later): the
 * stream has been idle for less time than its fan-out took, which is what falling behind means.
 */
async function publishBackToBack(sse: SSEServer, count: number, from = 0): Promise<string[]> {
  const sent: string[] = [];
  for (let i = from; i < from + count; i++) {
    sent.push(`event ${i}`);
    await sse.publish('s', `event ${i}`);
  }
  return sent;
}

const dataOf = (events: SSEEvent[]) => events.map((e) => e.data);

describe('joining writes when a stream falls behind', () => {
  it('joins back-to-back events into fewer writes, each event once and in order', async () => {
    const { sse, port } = await start();
    const readers = await crowd(port);
    const sent = await publishBackToBack(sse, 50);
    for (const r of [readers[0]!, readers.at(-1)!]) {
      await until(() => r.events.length >= 50, 5000, 'all 50 events');
      expect(dataOf(r.events)).toEqual(sent);
      // Every event its own write would be 50 chunks.
      expect(r.chunks.length).toBeLessThan(25);
    }
  });

  it('maxWriteDelayMs: 0 writes each event as it comes', async () => {
    const { sse, port } = await start({ maxWriteDelayMs: 0 });
    const reader = (await crowd(port))[0]!;
    const sent = await publishBackToBack(sse, 50);
    await until(() => reader.events.length >= 50, 5000, 'all 50 events');
    expect(dataOf(reader.events)).toEqual(sent);
    expect(reader.chunks.length).toBe(50);
  });

  it('a stream that keeps up writes each event at once', async () => {
    const { sse, port } = await start();
    const reader = await readChunks(port);
    for (let i = 0; i < 5; i++) {
      await sse.publish('s', `event ${i}`);
      await until(() => reader.events.length === i + 1, 5000, `event ${i}`);
      await sleep(30);
    }
    expect(reader.chunks.length).toBe(5);
  });

  it('a publisher that never yields to the event loop still gets writes of at most 64 KiB', async () => {
    const { sse, port } = await start({ maxWriteDelayMs: 5000 });
    const reader = (await crowd(port))[0]!;
    const big = (i: number) => `${i}:${'x'.repeat(4000)}`;
    const sent: string[] = [];
    // Awaiting publish only ever waits for microtasks: the hold's timer cannot fire in between.
    for (let i = 0; i < 100; i++) {
      sent.push(big(i));
      await sse.publish('s', big(i));
    }
    await until(() => reader.events.length >= 100, 5000, 'all 100 events');
    expect(dataOf(reader.events)).toEqual(sent);
    const largest = Math.max(...reader.chunks.map((c) => c.length));
    expect(largest).toBeLessThanOrEqual(64 * 1024 + 4100);
    expect(reader.chunks.length).toBeGreaterThan(1);
  });

  it('events held when the server closes go out before the end', async () => {
    const { sse, port } = await start({ maxWriteDelayMs: 5000 });
    const reader = (await crowd(port))[0]!;
    const sent = await publishBackToBack(sse, 20);
    await sse.close();
    await reader.ended;
    expect(dataOf(reader.events)).toEqual(sent);
    expect(reader.chunks.length).toBeLessThan(20); // some were held
  });

  it('events held when the stream is removed go out before the end', async () => {
    const { sse, port } = await start({ maxWriteDelayMs: 5000 });
    const reader = (await crowd(port))[0]!;
    const sent = await publishBackToBack(sse, 20);
    sse.removeStream('s');
    await reader.ended;
    expect(dataOf(reader.events)).toEqual(sent);
    expect(reader.chunks.length).toBeLessThan(20); // some were held
  });

  it('events held when the broker reports a gap go out before the reset', async () => {
    const listeners: BrokerListener[] = [];
    class ObservedBroker extends MemoryBroker {
      override listen(stream: string, listener: BrokerListener) {
        listeners.push(listener);
        return super.listen(stream, listener);
      }
    }
    const { sse, port } = await start({ broker: new ObservedBroker(), maxWriteDelayMs: 5000 });
    const reader = (await crowd(port))[0]!;
    const sent = await publishBackToBack(sse, 20);
    for (const l of listeners) l.onGap?.('lost');
    await until(() => reader.events.length >= 21, 5000, '20 events and the reset');
    expect(dataOf(reader.events.slice(0, 20))).toEqual(sent);
    expect(reader.events[20]!.event).toBe('reset');
    expect(JSON.parse(reader.events[20]!.data)).toMatchObject({ reason: 'lost' });
    expect(reader.chunks.length).toBeLessThan(20); // some were held
  });

  it.each([-1, '20', Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses maxWriteDelayMs %s with an error naming the option',
    (value) => {
      let error: unknown;
      try {
        new SSEServer({ maxWriteDelayMs: value as number });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toMatchObject({ code: 'INVALID_OPTION' });
      expect((error as Error).message).toMatch(/maxWriteDelayMs/);
    },
  );
});
