import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatCases } from './format-cases.js';
import { header, type Loopback, loopback } from './helpers.js';

/**
 * The resource handlers of the web-platform-tests `eventsource/` suite, as one loopback
 * node:http server. Per-test state the Python handlers keep in cookies is kept here by `id`.
 *
 *   /format/N                    format case N (see format-cases.ts)
 *   /message?message=&mime=&newline=&sleep=   a body (message + newline, default "\n\n")
 *   /status?status=N             that status with an event-stream body (empty for 204/205)
 *   /status-reconnect?status=N&id=&ok_first  first: status N + "retry: 2"; next: 200 "data"
 *   /reconnect-fail?id=          opened → reconnected → 204
 *   /last-event-id?idvalue=      echoes a Last-Event-ID, else sends one (with retry: 50)
 *   /redirect?status=N&location= a redirect
 *   /echo-header?name=H          the request header H as the data of one event (retry: 10)
 *   /drop-after?id=              sends id + data, then destroys the socket (a network error)
 */
export async function wptServer(): Promise<Loopback> {
  const state = new Map<string, string>();
  return loopback((req, res) => route(req, res, state));
}

function route(req: IncomingMessage, res: ServerResponse, state: Map<string, string>): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = (name: string) => url.searchParams.get(name);
  const stream = (status: number, body: string | Uint8Array, type = 'text/event-stream') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const path = url.pathname;
  if (path.startsWith('/format/')) {
    const c = formatCases[Number(path.slice('/format/'.length))]!;
    res.writeHead(200, { 'content-type': c.contentType ?? 'text/event-stream' });
    if (!Array.isArray(c.body)) {
      res.end(c.body);
      return;
    }
    const parts = c.body.slice();
    const next = () => {
      const part = parts.shift();
      if (part === undefined) {
        res.end();
        return;
      }
      res.write(part);
      setTimeout(next, 5);
    };
    next();
    return;
  }
  switch (path) {
    case '/message': {
      const newline = q('newline');
      const body = (q('message') ?? 'data: data') + (newline === 'none' ? '' : (newline ?? '\n\n'));
      const send = () => stream(200, body, q('mime') ?? 'text/event-stream');
      const sleep = Number(q('sleep') ?? 0);
      if (sleep > 0) setTimeout(send, sleep);
      else send();
      return;
    }
    case '/status': {
      const status = Number(q('status') ?? 404);
      stream(status, status === 204 || status === 205 ? '' : 'data: data\n\n');
      return;
    }
    case '/status-reconnect': {
      const status = q('status') ?? '204';
      const key = `status-reconnect:${q('id') ?? status}`;
      if (state.get(key) === status) {
        state.delete(key);
        stream(200, 'data: data\n\n');
        return;
      }
      state.set(key, status);
      stream(Number(status), `retry: 2\n${q('ok_first') !== null ? 'data: ok\n\n' : ''}`);
      return;
    }
    case '/reconnect-fail': {
      const key = `reconnect-fail:${q('id')}`;
      const seen = state.get(key);
      if (seen === 'opened') {
        state.set(key, 'reconnected');
        stream(200, 'data: reconnected\n\n');
        return;
      }
      if (seen === 'reconnected') {
        state.delete(key);
        stream(204, '');
        return;
      }
      state.set(key, 'opened');
      stream(200, 'retry: 2\ndata: opened\n\n');
      return;
    }
    case '/last-event-id': {
      const id = header(req, 'last-event-id');
      if (id !== '') stream(200, `data: ${id}\n\n`);
      else stream(200, `id: ${q('idvalue') ?? '…'}\nretry: 50\ndata: hello\n\n`);
      return;
    }
    case '/redirect': {
      res.writeHead(Number(q('status') ?? 302), { location: q('location') ?? '/message' });
      res.end();
      return;
    }
    case '/echo-header': {
      stream(200, `retry: 10\ndata: ${header(req, q('name') ?? 'accept')}\n\n`);
      return;
    }
    case '/drop-after': {
      const key = `drop-after:${q('id')}`;
      const n = Number(state.get(key) ?? 0) + 1;
      state.set(key, String(n));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`retry: 20\nid: ${n}\ndata: seen ${header(req, 'last-event-id') || 'nothing'}\n\n`);
      // A network error mid-stream: the socket goes away without ending the chunked body.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such resource\n');
  }
}
