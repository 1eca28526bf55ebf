import http from 'node:http';
import { Readable } from 'node:stream';

type RouteHandler = (request: Request) => Response | Promise<Response>;
export type RouteModule = Partial<Record<'GET' | 'HEAD' | 'OPTIONS' | 'POST', RouteHandler>>;

/**
 * A stand-in for `next start`: serves one route module's exported method handlers at `path` on
 * node:http, turning each request into a Fetch `Request` whose signal aborts when the client goes
 * away, and streaming the `Response` back. Like Next.js, a method the module does not export
 * gets 405.
 */
export function serveRoute(path: string, route: RouteModule): http.Server {
  return http.createServer(async (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Try ${path}\n`);
      return;
    }
    const handler = route[req.method as keyof RouteModule];
    if (!handler) {
      res.writeHead(405, { Allow: Object.keys(route).join(', ') }).end();
      return;
    }
    const aborted = new AbortController();
    res.once('close', () => aborted.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host}`), {
      method: req.method,
      headers,
      signal: aborted.signal,
    });
    let response: Response;
    try {
      response = await handler(request);
    } catch (err) {
      console.error(err);
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal Server Error\n');
      return;
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) {
      res.end();
      return;
    }
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    body.on('error', () => res.destroy());
    res.once('close', () => body.destroy());
    body.pipe(res);
  });
}
