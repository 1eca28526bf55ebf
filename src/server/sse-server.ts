import { MemoryBroker } from '../broker/memory.js';
import type { Broker } from '../broker/types.js';
import type { PublishEvent } from '../protocol/types.js';
import type { Connection } from './connection.js';
import { InvalidStreamNameError, ServerClosedError, StreamNotFoundError } from './errors.js';
import { fetchHandler } from './fetch-transport.js';
import { callHook } from './hooks.js';
import { nodeHandler } from './node-transport.js';
import { checkOptions, checkStreamOptions } from './options.js';
import {
  corsHeaders,
  EVENT_STREAM_HEADERS,
  type Headers,
  mergeHeaders,
  preflightReply,
  queryOf,
  type Reply,
  type RequestView,
  streamNameProblem,
  textReply,
} from './route.js';
import { Stream, type StreamSettings } from './stream.js';
import { Subscriber } from './subscriber.js';
import type { ServerOptions, StreamOptions, SubscriberInfo, UnsubscribeReason } from './types.js';
import { KEEP_ALIVE } from './wire.js';

/** A request that may subscribe: what the transport needs to open the event stream. */
export interface Accepted {
  stream: Stream;
  headers: Headers;
  /** The id to replay from, when replay applies. */
  replayFrom: string | undefined;
  info: SubscriberInfo;
}

let connections = 0;

/**
 * Server-Sent Events over named streams: many subscribers each, replay on reconnect, bounded
 * queues, and one handler for node:http-style servers and one for Fetch-API frameworks.
 */
export class SSEServer {
  /** For node:http, http2's compatibility API, Express, Connect, and `req.raw`/`ctx.req` elsewhere. */
  readonly handler: ReturnType<typeof nodeHandler>;
  /** For Fetch-API frameworks: Hono, Next.js route handlers, Bun, Deno. */
  readonly fetch: (request: Request) => Promise<Response>;

  private readonly options: ServerOptions;
  private readonly broker: Broker;
  private readonly streams = new Map<string, Stream>();
  private readonly settings: StreamSettings;
  /** The subscribe response's headers: the defaults, replaced by `headers` of the same name. */
  private readonly eventStreamHeaders: Headers;
  private readonly keepAlive: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ServerOptions = {}) {
    checkOptions(options);
    this.options = options;
    this.broker = options.broker ?? new MemoryBroker();
    this.settings = streamSettings(options, this.broker, undefined);
    this.eventStreamHeaders = mergeHeaders(EVENT_STREAM_HEADERS, options.headers);
    const keepAliveMs = options.keepAliveMs ?? 15_000;
    if (keepAliveMs > 0) {
      // One timer for the whole server, not one per connection.
      this.keepAlive = setInterval(() => {
        for (const stream of this.streams.values()) stream.broadcast(KEEP_ALIVE);
      }, keepAliveMs);
      this.keepAlive.unref();
    }
    this.handler = nodeHandler(this);
    this.fetch = fetchHandler(this, this.settings.maxQueuedBytes);
  }

  createStream(id: string, opts: StreamOptions = {}): Stream {
    if (this.closing) throw new ServerClosedError();
    const problem = streamNameProblem(id);
    if (problem !== undefined) throw new InvalidStreamNameError(id, problem);
    checkStreamOptions(opts);
    let stream = this.streams.get(id);
    if (!stream) {
      const settings =
        opts.history || opts.eventTTL !== undefined
          ? streamSettings(this.options, this.broker, opts)
          : this.settings;
      stream = new Stream(id, settings);
      this.streams.set(id, stream);
    }
    return stream;
  }

  /** Remove a stream: its subscribers are ended and its history forgotten. */
  removeStream(id: string): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    // Dropped now, not after the close: a stream created again under this name keeps what it gets.
    this.broker.drop?.(id).catch(() => {});
    void stream.close('stream-removed');
  }

  streamExists(id: string): boolean {
    return this.streams.has(id);
  }

  /** Publish to a stream; resolves with the event's id once the broker holds it. */
  async publish(streamId: string, event: PublishEvent): Promise<string> {
    if (this.closing) throw new ServerClosedError();
    const stream =
      this.streams.get(streamId) ??
      (this.options.autoStream ? this.createStream(streamId) : undefined);
    if (!stream) throw new StreamNotFoundError(streamId);
    return stream.publish(event);
  }

  /** Publish without waiting; false when the stream does not exist or the broker cannot take it. */
  tryPublish(streamId: string, event: PublishEvent): boolean {
    if (this.closing) return false;
    const stream =
      this.streams.get(streamId) ??
      (this.options.autoStream && streamNameProblem(streamId) === undefined
        ? this.createStream(streamId)
        : undefined);
    return stream ? stream.tryPublish(event) : false;
  }

  /** End every subscriber cleanly, stop timers and release the broker. Publishing then rejects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.keepAlive) clearInterval(this.keepAlive);
      const streams = [...this.streams.values()];
      this.streams.clear();
      await Promise.all(streams.map((s) => s.close('server-closed')));
      if (!this.options.broker) await this.broker.close();
    })();
    return this.closing;
  }

  /** @internal Decide what to answer a request: a reply, or a subscription to open. */
  async route(req: RequestView): Promise<Reply | Accepted> {
    const { cors } = this.options;
    const origin = req.header('origin');
    const corsH = corsHeaders(cors, origin);
    if (this.closing) return textReply(503, 'The server is shutting down; retry shortly.', corsH);
    if (req.method === 'OPTIONS' && cors) return preflightReply(cors, origin);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return textReply(405, `Method ${req.method} is not allowed: subscribe with GET.`, {
        Allow: 'GET, HEAD',
        ...corsH,
      });
    }
    const query = queryOf(req.url);
    const param = this.options.streamParam ?? 'stream';
    const streamId = query.get(param);
    if (streamId === null || streamId === '') {
      return textReply(
        400,
        `Missing the "${param}" query parameter: subscribe with ?${param}=NAME.`,
        corsH,
      );
    }
    const problem = streamNameProblem(streamId);
    if (problem !== undefined) {
      return textReply(400, `Invalid stream name: ${problem}.`, corsH);
    }
    if (this.options.authorize && !(await this.options.authorize(req.raw, streamId))) {
      return textReply(403, `Not allowed to subscribe to stream "${streamId}".`, corsH);
    }
    if (this.closing) return textReply(503, 'The server is shutting down; retry shortly.', corsH);
    // HEAD answers what GET would, but never creates a stream.
    const head = req.method === 'HEAD';
    let stream = this.streams.get(streamId);
    if (!stream && this.options.autoStream && !head) stream = this.createStream(streamId);
    if (!stream && !(head && this.options.autoStream)) {
      return textReply(404, `Stream "${streamId}" does not exist.`, corsH);
    }
    // Accept only once the broker delivers this stream here, so no event falls in between.
    try {
      await stream?.ready;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return textReply(503, `The event broker is unavailable (${why}); retry shortly.`, corsH);
    }
    const headers = mergeHeaders(this.eventStreamHeaders, corsH);
    if (head || !stream) return { status: 200, headers, body: '' };

    // "Last-Event-ID" wins; the query parameter serves clients that cannot set headers.
    const lastEventId = req.header('last-event-id') ?? query.get('lastEventId') ?? '';
    const replay = lastEventId !== '' && this.options.autoReplay !== false;
    return {
      stream,
      headers,
      replayFrom: replay ? lastEventId : undefined,
      info: { connectionId: (++connections).toString(36), lastEventId, request: req.raw },
    };
  }

  /** @internal The transport has sent the headers: start the subscription. */
  open(accepted: Accepted, connection: Connection): Subscriber {
    const sub = new Subscriber(connection, accepted.info);
    const { retryMs } = this.options;
    // A first line right away flushes the headers through proxies and middleware.
    connection.write(Buffer.from(retryMs === undefined ? ':ok\n\n' : `retry: ${retryMs}\n\n`));
    // Attached first, so an event the hook publishes (a welcome) reaches this subscriber too.
    void accepted.stream.attach(sub, accepted.replayFrom);
    callHook('onSubscribe', this.options.onSubscribe, accepted.stream.id, accepted.info);
    return sub;
  }

  /** @internal The transport saw the client go away. */
  closed(stream: Stream, sub: Subscriber, reason: UnsubscribeReason): void {
    stream.detach(sub, reason);
  }
}

function streamSettings(
  options: ServerOptions,
  broker: Broker,
  stream: StreamOptions | undefined,
): StreamSettings {
  const history = { ...options.history, ...stream?.history };
  const limits = {
    maxEvents: history.maxEvents ?? 1000,
    maxAgeMs: history.maxAgeMs ?? Number.POSITIVE_INFINITY,
  };
  const eventTTL = stream?.eventTTL ?? options.eventTTL ?? Number.POSITIVE_INFINITY;
  return {
    broker,
    limits,
    replayLimits: { ...limits, maxAgeMs: Math.min(limits.maxAgeMs, eventTTL) },
    resetEvent: options.resetEvent === undefined ? 'reset' : options.resetEvent,
    maxQueuedBytes: options.maxQueuedBytes ?? 1024 * 1024,
    maxWriteDelayMs: options.maxWriteDelayMs ?? 20,
    encodeBase64: options.encodeBase64 === true,
    onUnsubscribe: options.onUnsubscribe,
  };
}

export function isReply(decision: Reply | Accepted): decision is Reply {
  return 'status' in decision;
}
