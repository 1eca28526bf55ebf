import type { CorsOptions, SubscribeRequest } from './types.js';

/** A request as every transport can describe it. */
export interface RequestView {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  header(name: string): string | undefined;
  raw: SubscribeRequest;
}

export type Headers = Record<string, string>;

/** A finished answer: an error, a HEAD, or a CORS preflight. */
export interface Reply {
  status: number;
  headers: Headers;
  body: string;
}

export const EVENT_STREAM_HEADERS: Readonly<Headers> = {
  'Content-Type': 'text/event-stream',
  // no-transform keeps compressing proxies from holding events back.
  'Cache-Control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told not to.
  'X-Accel-Buffering': 'no',
};

export const MAX_STREAM_NAME = 256;

/** Why a stream name cannot be used, or undefined if it can. */
export function streamNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_STREAM_NAME) return `it is longer than ${MAX_STREAM_NAME} characters`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains control characters';
  return undefined;
}

/**
 * The query of a request target. Not `new URL(target, base)`: a target such as `//` or
 * `//host:99999/` reads as an authority there and throws, which would answer 500.
 */
export function queryOf(target: string): URLSearchParams {
  const q = target.indexOf('?');
  if (q < 0) return new URLSearchParams();
  const hash = target.indexOf('#', q);
  return new URLSearchParams(target.slice(q + 1, hash < 0 ? undefined : hash));
}

/** Header sets merged in order; a later name replaces an earlier one whatever its case. */
export function mergeHeaders(...sets: (Readonly<Headers> | undefined)[]): Headers {
  const merged: Headers = {};
  const names = new Map<string, string>(); // lower case → the spelling kept
  for (const set of sets) {
    if (!set) continue;
    for (const [name, value] of Object.entries(set)) {
      const lower = name.toLowerCase();
      const previous = names.get(lower);
      if (previous !== undefined) delete merged[previous];
      names.set(lower, name);
      merged[name] = value;
    }
  }
  return merged;
}

export function textReply(status: number, message: string, headers: Headers = {}): Reply {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers },
    body: `${message}\n`,
  };
}

/**
 * CORS response headers for a request from `origin`: `Vary: Origin` whenever CORS is on (the
 * answer depends on it), and the allow headers when the origin is allowed. `'*'` means any.
 */
export function corsHeaders(cors: CorsOptions | undefined, origin: string | undefined): Headers {
  if (!cors) return {};
  const vary: Headers = { Vary: 'Origin' };
  if (origin === undefined) return vary;
  const allowed =
    cors.origin === true ||
    cors.origin === '*' ||
    (typeof cors.origin === 'string' ? cors.origin === origin : cors.origin.includes(origin));
  if (!allowed) return vary;
  const headers: Headers = { 'Access-Control-Allow-Origin': origin, ...vary };
  if (cors.credentials) headers['Access-Control-Allow-Credentials'] = 'true';
  return headers;
}

export function preflightReply(cors: CorsOptions, origin: string | undefined): Reply {
  const headers = corsHeaders(cors, origin);
  if (!headers['Access-Control-Allow-Origin']) {
    return textReply(403, `Origin ${origin ?? '(none)'} is not allowed to subscribe.`);
  }
  return {
    status: 204,
    headers: {
      ...headers,
      'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
      'Access-Control-Allow-Headers': 'Last-Event-ID, Authorization, Cache-Control, Content-Type',
      'Access-Control-Max-Age': '600',
    },
    body: '',
  };
}
