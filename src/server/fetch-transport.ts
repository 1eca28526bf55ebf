import type { Connection } from './connection.js';
import { subscribeFailureReporter } from './hooks.js';
import type { RequestView } from './route.js';
import { isReply, type SSEServer } from './sse-server.js';
import type { Subscriber } from './subscriber.js';

/** The adapter for Fetch-API frameworks: a `Request` in, a streaming `Response` out. */
export function fetchHandler(server: SSEServer, maxQueuedBytes: number) {
  const reportFailure = subscribeFailureReporter();
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const req: RequestView = {
      method: request.method,
      url: url.pathname + url.search,
      header: (name) => request.headers.get(name) ?? undefined,
      raw: request,
    };
    let decision: Awaited<ReturnType<SSEServer['route']>>;
    try {
      decision = await server.route(req);
    } catch (err) {
      // As the node handler answers: a throwing `authorize` is the server's fault, not the client's.
      reportFailure(err);
      return new Response('Internal error while subscribing.\n', {
        status: 500,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
    if (isReply(decision)) {
      // A 204 (preflight) must have a null body, not even an empty one, or Response throws.
      const empty = request.method === 'HEAD' || decision.body === '';
      return new Response(empty ? null : decision.body, decision);
    }
    // The client went away while `authorize` or the broker was awaited: nothing to open.
    if (request.signal?.aborted) return new Response(null, { status: 499 });

    let sub: Subscriber | undefined;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const gone = () => {
      if (sub) server.closed(decision.stream, sub, 'client-closed');
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        cancel: gone,
      },
      // desiredSize then tells how many bytes wait for the client.
      { highWaterMark: maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
    const connection: Connection = {
      write(chunk) {
        try {
          controller.enqueue(chunk);
        } catch {
          gone(); // the body was cancelled under us
        }
      },
      get queuedBytes() {
        return maxQueuedBytes - (controller.desiredSize ?? 0);
      },
      end() {
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      },
      destroy() {
        try {
          controller.error(new Error('SSE subscriber disconnected'));
        } catch {
          // already closed
        }
      },
    };
    sub = server.open(decision, connection);
    request.signal?.addEventListener('abort', gone, { once: true });
    return new Response(body, { status: 200, headers: decision.headers });
  };
}
