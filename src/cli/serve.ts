import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BrokerUnavailableError, RedisBroker } from '../redis/index.js';
import {
  type Broker,
  InvalidStreamNameError,
  MemoryBroker,
  type PublishEvent,
  ServerClosedError,
  SSEServer,
} from '../server/index.js';
import { corsHeaders, queryOf } from '../server/route.js';
import { Auth, type Decision } from './auth.js';
import type { ServeConfig } from './config.js';
import { SubscriberLimits } from './limits.js';
import type { Logger } from './log.js';
import { HubMetrics } from './metrics.js';
import { PAGE_HTML } from './page.js';
import { HubStreams } from './streams.js';

export interface Hub {
  /** The base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  server: Server;
  /** Stop accepting, end every stream cleanly, release Redis. */
  close(): Promise<void>;
}

type Headers = Record<string, string>;
type Target = ReturnType<typeof requestTarget>;

/** Start `ssekit serve`: an HTTP hub around one SSEServer. */
export async function startHub(config: ServeConfig, log: Logger): Promise<Hub> {
  const auth = new Auth(config);
  const metrics = new HubMetrics();
  const redis = config.redisUrl === undefined ? undefined : redisBroker(config, log);
  const broker: Broker = redis ?? new MemoryBroker();
  if (redis) {
    const health = await redis.checkHealth();
    if (!health.healthy) {
      log.warn('redis is not reachable yet; /healthz answers 503 and publishes fail until it is', {
        url: redactUrl(config.redisUrl!),
        reason: health.reason,
      });
    }
  }
  const historyLimits = { maxEvents: config.history, maxAgeMs: Number.POSITIVE_INFINITY };
  const cors =
    config.corsOrigin === undefined
      ? undefined
      : { origin: config.corsOrigin as string[] | true, credentials: false };
  const sse = new SSEServer({
    broker: metrics.meter(broker),
    history: { maxEvents: config.history },
    keepAliveMs: config.keepAliveMs,
    maxWriteDelayMs: config.maxWriteDelayMs,
    ...(config.retryMs === undefined ? {} : { retryMs: config.retryMs }),
    ...(cors ? { cors } : {}),
    onSubscribe: (stream, info) => {
      metrics.subscribed(stream);
      log.debug('subscribe', {
        stream,
        connection: info.connectionId,
        lastEventId: info.lastEventId || undefined,
      });
    },
    onUnsubscribe: (stream, info) => {
      metrics.unsubscribed(stream, info.reason);
      const fields = { stream, connection: info.connectionId, reason: info.reason };
      if (info.reason === 'slow-subscriber') log.warn('dropped a slow subscriber', fields);
      else log.debug('unsubscribe', fields);
    },
  });
  const clientBundle = findClientBundle();
  const limits = new SubscriberLimits({
    perStream: config.maxSubscribers,
    perClient: config.maxSubscribersPerClient,
    total: config.maxConnections,
  });
  const streams = new HubStreams(sse, hasHistory, (s) => limits.subscribers(s), {
    max: config.maxStreams,
    idleMs: config.streamIdleMs,
    historyOutlivesStream: redis !== undefined,
  });
  streams.start();
  metrics.countStreams(() => streams.size);
  let closing: Promise<void> | undefined;

  const corsFor = (req: IncomingMessage): Headers => corsHeaders(cors, req.headers.origin);

  const text = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    headers: Headers = {},
  ) => {
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      ...corsFor(req),
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : `${body}\n`);
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, decision: Decision & { ok: false }) =>
    text(
      req,
      res,
      decision.status,
      decision.reason,
      decision.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="ssekit"' } : {},
    );

  const nameProblem = (name: string): string | undefined => {
    if (name.length > config.maxStreamName) {
      return `Stream names are at most ${config.maxStreamName} characters; this one has ${name.length}.`;
    }
    if (/[\u0000-\u001f\u007f]/.test(name))
      return 'Stream names cannot contain control characters.';
    return undefined;
  };

  /** GET /events?stream=NAME: the hub's checks, then the library's own handler. */
  async function events(req: IncomingMessage, res: ServerResponse, url: Target): Promise<void> {
    const stream = url.searchParams.get('stream');
    // Wrong methods, preflights and a missing name are the library's to answer.
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !stream) return sse.handler(req, res);
    const problem = nameProblem(stream);
    if (problem) return text(req, res, 400, problem);
    const decision = await auth.check(req, 'subscribe', stream, url.searchParams);
    if (!decision.ok) return refuse(req, res, decision);
    if (!sse.streamExists(stream) && !closing) {
      // With Redis, a stream another hub (or this one before a restart) published to exists.
      let known = config.autoStream;
      if (!known && redis !== undefined) {
        try {
          known = await hasHistory(stream);
        } catch (err) {
          // A 404 is final for clients; while Redis cannot say, ask them to come back.
          return text(
            req,
            res,
            503,
            `Cannot tell whether stream "${stream}" exists: Redis is unreachable (${(err as Error).message}); retry shortly.`,
            { 'Retry-After': '1' },
          );
        }
      }
      if (!known) {
        return text(
          req,
          res,
          404,
          `Stream "${stream}" does not exist yet: publishing to it creates it (POST /publish?stream=${encodeURIComponent(stream)}), or start the hub with --auto-stream.`,
        );
      }
    }
    // Opened, checked and counted with no await in between, so a burst cannot overshoot.
    const refused = closing ? undefined : streams.open(stream);
    if (refused) return text(req, res, refused.status, refused.reason, { 'Retry-After': '5' });
    const admitted = limits.admit(stream, req.socket.remoteAddress ?? 'unknown');
    if ('status' in admitted) {
      return text(req, res, admitted.status, admitted.reason, { 'Retry-After': '5' });
    }
    res.once('close', () => {
      admitted.release();
      streams.touch(stream);
    });
    sse.handler(req, res);
  }

  /** Whether the broker holds history for the stream (with Redis: from any hub, before a restart too). */
  async function hasHistory(stream: string): Promise<boolean> {
    const held = await broker.history(stream, '', historyLimits);
    return held.events.length > 0;
  }

  /** POST /publish?stream=NAME */
  async function publish(req: IncomingMessage, res: ServerResponse, url: Target): Promise<void> {
    if (req.method === 'OPTIONS') {
      const headers = corsFor(req);
      if (!headers['Access-Control-Allow-Origin'])
        return text(
          req,
          res,
          403,
          `Origin ${req.headers.origin ?? '(none)'} is not allowed to publish.`,
        );
      res.writeHead(204, {
        ...headers,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    const fail = (status: number, reason: string, headers: Headers = {}) => {
      metrics.publishFailures.inc({ status: String(status) });
      text(req, res, status, reason, headers);
    };
    if (req.method !== 'POST')
      return fail(405, `Method ${req.method} is not allowed: publish with POST.`, {
        Allow: 'POST, OPTIONS',
      });
    const stream = url.searchParams.get('stream');
    if (!stream)
      return fail(400, 'Missing the "stream" query parameter: publish with ?stream=NAME.');
    const problem = nameProblem(stream);
    if (problem) return fail(400, problem);
    const decision = await auth.check(req, 'publish', stream, url.searchParams);
    if (!decision.ok) {
      metrics.publishFailures.inc({ status: String(decision.status) });
      return refuse(req, res, decision);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > config.maxBody)
      return fail(413, tooLarge(config.maxBody), { Connection: 'close' });
    const body = await readBody(req, config.maxBody);
    if (body === undefined) return fail(413, tooLarge(config.maxBody), { Connection: 'close' });
    const started = process.hrtime.bigint();
    let batch: PublishEvent[];
    try {
      batch = toEvents(body, req.headers['content-type']);
    } catch (err) {
      return fail(400, (err as Error).message);
    }
    if (closing)
      return fail(503, 'The hub is shutting down; publish to another one or retry shortly.');
    const refused = streams.open(stream);
    if (refused) return fail(refused.status, refused.reason, { 'Retry-After': '5' });
    const ids: string[] = [];
    try {
      // One at a time, so the batch keeps its order whatever the broker.
      for (const event of batch) ids.push(await sse.publish(stream, event));
    } catch (err) {
      const done =
        ids.length > 0
          ? ` (${ids.length} of ${batch.length} events were published: ${ids.join(', ')})`
          : '';
      if (err instanceof TypeError || err instanceof InvalidStreamNameError)
        return fail(400, `${(err as Error).message}${done}`);
      if (err instanceof ServerClosedError)
        return fail(503, `The hub is shutting down; retry shortly${done}.`);
      log.warn('publish failed', { stream, error: (err as Error).message });
      return fail(503, `Could not publish: ${(err as Error).message}${done}`, {
        'Retry-After': '1',
      });
    }
    metrics.publishLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    metrics.published.inc(ids.length);
    log.debug('publish', { stream, events: ids.length, id: ids[ids.length - 1] });
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      ...corsFor(req),
    });
    res.end(JSON.stringify({ stream, ids }));
  }

  async function healthz(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (closing) return text(req, res, 503, 'shutting down');
    if (redis) {
      const health = await redis.checkHealth();
      if (!health.healthy) return text(req, res, 503, `Redis is unreachable: ${health.reason}`);
    }
    text(req, res, 200, 'ok');
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestTarget(req.url ?? '/');
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (url.pathname) {
      case '/events':
        return events(req, res, url);
      case '/publish':
        return publish(req, res, url);
      case '/healthz':
        return healthz(req, res);
      case '/metrics':
        if (!get) break;
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : await metrics.text());
        return;
      case '/':
        if (!get) break;
        res.writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : PAGE_HTML);
        return;
      case '/ssekit-client.js': {
        if (!get) break;
        if (!clientBundle)
          return text(req, res, 404, 'The browser client is not built: run "npm run build".');
        res.writeHead(200, {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Cache-Control': 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : readFileSync(clientBundle));
        return;
      }
      default:
        return text(
          req,
          res,
          404,
          `Nothing at ${url.pathname}: the hub serves /events, /publish, /healthz, /metrics and /.`,
        );
    }
    text(req, res, 405, `Method ${req.method} is not allowed on ${url.pathname}.`, {
      Allow: 'GET, HEAD',
    });
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      log.error('request failed', {
        url: req.url?.replace(/([?&]token=)[^&]*/, '$1***'),
        error: (err as Error).message,
      });
      if (!res.headersSent) text(req, res, 500, 'Internal error.');
      else res.destroy();
    });
  });
  // A client that sends its headers or body a byte at a time is cut instead of held for minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // A reconnect storm (a restart, a network blip) arrives at once: with node's default backlog
  // of 511 the kernel drops the excess connects and clients wait 1, 3, 7 s to retry. The kernel
  // caps this at net.core.somaxconn.
  server.listen({ port: config.port, host: config.host, backlog: 4096 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;

  return {
    url,
    server,
    close() {
      closing ??= (async () => {
        streams.stop();
        server.close(); // stop accepting; resolves once every connection is gone
        server.closeIdleConnections();
        // Every subscriber's response ends: clients see a clean end of stream and reconnect.
        await sse.close();
        await broker.close();
        server.closeIdleConnections();
        // Publish requests still in flight have had their answer; nothing else is owed.
        setTimeout(() => server.closeAllConnections(), 500).unref();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** The path and query of a request target (`queryOf` explains why not `new URL`). */
function requestTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  const q = target.indexOf('?');
  return { pathname: q === -1 ? target : target.slice(0, q), searchParams: queryOf(target) };
}

function tooLarge(max: number): string {
  return `The body is larger than the hub's limit of ${max} bytes (--max-body).`;
}

/** The body, or undefined once it grows past `max` bytes (the rest is not read). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A text body is the data of one event; a JSON body is one event object or an array of them. */
export function toEvents(body: Buffer, contentType: string | undefined): PublishEvent[] {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // application/json, text/json and any +json type: a JSON event (or array of them); any other
  // type (fetch sends a string body as text/plain) is the data itself.
  if (!/^[a-z0-9.+-]+\/(?:json|[a-z0-9.+-]*\+json)$/.test(type)) return [body.toString('utf8')];
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Error(
      `The body is not valid JSON (${(err as Error).message}); send text with another Content-Type to publish it as is.`,
    );
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new Error('The JSON array is empty: nothing to publish.');
  return list.map((item, i) => toEvent(item, Array.isArray(value) ? `item ${i}` : 'the body'));
}

function toEvent(item: unknown, where: string): PublishEvent {
  if (item === null || typeof item !== 'object' || Array.isArray(item) || !('data' in item)) {
    throw new Error(
      `${where} must be an object with "data" (and optional "id", "event", "retry").`,
    );
  }
  const { data, id, event, retry } = item as Record<string, unknown>;
  const out: { data: string; id?: string; event?: string; retry?: number } = {
    // Data that is not a string is sent as its JSON text.
    data: typeof data === 'string' ? data : JSON.stringify(data),
  };
  if (id !== undefined) {
    if (typeof id !== 'string') throw new Error(`${where}: "id" must be a string.`);
    out.id = id;
  }
  if (event !== undefined) {
    if (typeof event !== 'string') throw new Error(`${where}: "event" must be a string.`);
    out.event = event;
  }
  if (retry !== undefined) {
    if (typeof retry !== 'number' || !Number.isInteger(retry) || retry < 0) {
      throw new Error(`${where}: "retry" must be a whole number of milliseconds.`);
    }
    out.retry = retry;
  }
  return out;
}

/**
 * The hub's Redis broker. It owns its connections, so each outage is logged once, by it: when
 * it starts (any connection lost) and when every connection is back.
 */
function redisBroker(config: ServeConfig, log: Logger): RedisBroker {
  const url = redactUrl(config.redisUrl!);
  return new RedisBroker({
    url: config.redisUrl,
    keyPrefix: config.redisPrefix,
    maxLen: config.history,
    onError: (err) => {
      // An outage (no stream): what the connection said is what an operator needs.
      if (err instanceof BrokerUnavailableError && err.stream === '') {
        log.warn('redis unreachable', { url, error: (err.cause as Error)?.message ?? err.message });
      } else log.warn('redis', { error: err.message });
    },
    onStateChange: (state) => {
      if (state === 'up') log.info('redis reachable again', { url });
    },
  });
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** dist/browser/ssekit-client.js, from the built bin or from the source tree (tsx). */
function findClientBundle(): string | undefined {
  // The bundler may put this code in dist/cli/ or in a shared chunk in dist/.
  const candidates = [
    './browser/ssekit-client.js',
    '../browser/ssekit-client.js',
    '../../dist/browser/ssekit-client.js',
  ];
  for (const rel of candidates) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}
