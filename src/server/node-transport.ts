import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Connection } from './connection.js';
import { subscribeFailureReporter } from './hooks.js';
import type { RequestView } from './route.js';
import { isReply, type SSEServer } from './sse-server.js';

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;
/** `compression` and similar middleware add `flush()` to push out what they hold back. */
type Flushable = { flush?: () => void };

/** The adapter for node:http, http2's compatibility API, Express and Connect. */
export function nodeHandler(server: SSEServer) {
  const reportFailure = subscribeFailureReporter();
  return (req: NodeRequest, res: NodeResponse, next?: (err?: unknown) => void): void => {
    server
      .route(view(req))
      .then((decision) => {
        if (isReply(decision)) {
          res.writeHead(decision.status, decision.headers);
          if (req.method === 'HEAD') res.end();
          else res.end(decision.body);
          return;
        }
        // The client went away while `authorize` or the broker was awaited: its 'close' has
        // fired already, so a subscriber opened now would never be removed.
        if (res.destroyed || req.socket.destroyed) return;
        const headers: Record<string, string> = { ...decision.headers };
        // HTTP/2 forbids connection-specific headers.
        if (req.httpVersionMajor < 2) headers.Connection = 'keep-alive';
        res.writeHead(200, headers);
        if ('setNoDelay' in req.socket) req.socket.setNoDelay(true);
        const sub = server.open(decision, new NodeConnection(res));
        // The listener lives as long as the connection: it holds the stream, not the decision.
        const stream = decision.stream;
        res.once('close', () => server.closed(stream, sub, 'client-closed'));
      })
      // Also what throws above (opening the stream): an unhandled rejection would end the process.
      .catch((err: unknown) => {
        if (next) return next(err); // the framework reports it
        reportFailure(err);
        // A stream already answered 200 cannot become a 500: end it, and the client reconnects.
        if (res.headersSent) return void res.destroy();
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Internal error while subscribing.\n');
      });
  };
}

/**
 * A response as a `Connection`. A class rather than an object literal: V8 keeps a literal with a
 * getter in dictionary mode, and with its closures that cost about 0.75 KB per subscriber.
 */
class NodeConnection implements Connection {
  /** Whether to write HTTP/1.1 chunks straight to the socket; decided once the headers are out. */
  private direct: boolean | undefined;

  constructor(private readonly res: NodeResponse) {}

  write(chunk: Uint8Array): void {
    const res = this.res as ServerResponse;
    // `headersSent` is true from writeHead on; the head itself goes out with the first write.
    if (this.direct === undefined && (res as { _headerSent?: boolean })._headerSent) {
      this.direct = canWriteDirect(res);
    }
    if (this.direct) {
      res.socket!.write(chunkFrame(chunk));
      return;
    }
    res.write(chunk);
    (res as Flushable).flush?.();
  }

  get queuedBytes(): number {
    return this.res.writableLength;
  }

  end(): void {
    this.res.end();
  }

  destroy(): void {
    (this.res as ServerResponse).destroy();
  }
}

const plainWrite = ServerResponse.prototype.write;
const CRLF = Buffer.from('\r\n');
const frames = new WeakMap<Uint8Array, Buffer>();

/**
 * A chunk of HTTP/1.1 chunked encoding around bytes that every subscriber shares, made once per
 * buffer: each subscriber then costs one socket write, not node's three-part chunk per response.
 */
function chunkFrame(data: Uint8Array): Buffer {
  let frame = frames.get(data);
  if (!frame) {
    frame = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, CRLF]);
    frames.set(data, frame);
  }
  return frame;
}

/**
 * Whether writing framed chunks to the socket is the same as `res.write`: a plain HTTP/1.1
 * chunked response, owning its socket, with nothing of its own still queued, and no middleware
 * (compression, logging) wrapping `write`. Anything else goes through `res.write`.
 */
function canWriteDirect(res: ServerResponse): boolean {
  const r = res as ServerResponse & { outputData?: unknown; _httpMessage?: unknown };
  const socket = r.socket as (ServerResponse['socket'] & { _httpMessage?: unknown }) | null;
  return (
    r instanceof ServerResponse &&
    r.write === plainWrite &&
    !('flush' in r) &&
    (r as { chunkedEncoding?: boolean }).chunkedEncoding === true &&
    socket !== null &&
    socket._httpMessage === r &&
    Array.isArray(r.outputData) &&
    r.outputData.length === 0
  );
}

function view(req: NodeRequest): RequestView {
  return {
    method: req.method ?? 'GET',
    // Express mounts rewrite req.url; the query is what matters and it is kept.
    url: req.url ?? '/',
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
    raw: req,
  };
}
