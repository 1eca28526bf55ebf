import { parseArgs } from 'node:util';

/** Wrong flags or values: the command prints the message and exits 2. */
export class UsageError extends Error {
  readonly code = 'USAGE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One `serve` option: its flag, its environment variable, and what `--help` says about it. */
interface OptionSpec {
  flag: string;
  env: string;
  type: 'string' | 'boolean';
  /** Shown in --help as `--flag VALUE`. */
  value?: string;
  default?: string;
  help: string;
}

/** Every `ssekit serve` option, in the order --help lists them. */
export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'port',
    env: 'SSEKIT_PORT',
    type: 'string',
    value: 'N',
    default: '8080',
    help: 'TCP port to listen on (0: any free port).',
  },
  {
    flag: 'host',
    env: 'SSEKIT_HOST',
    type: 'string',
    value: 'ADDR',
    default: '127.0.0.1',
    help: 'Address to listen on; 0.0.0.0 to accept other machines.',
  },
  {
    flag: 'redis',
    env: 'SSEKIT_REDIS_URL',
    type: 'string',
    value: 'URL',
    help: 'Share streams and history through Redis (redis://host:6379); run any number of hubs on it.',
  },
  {
    flag: 'redis-prefix',
    env: 'SSEKIT_REDIS_PREFIX',
    type: 'string',
    value: 'P',
    default: 'ssekit',
    help: 'Prefix of every Redis key the hub writes.',
  },
  {
    flag: 'history',
    env: 'SSEKIT_HISTORY',
    type: 'string',
    value: 'N',
    default: '1000',
    help: 'Events kept per stream for Last-Event-ID replay.',
  },
  {
    flag: 'publish-token',
    env: 'SSEKIT_PUBLISH_TOKEN',
    type: 'string',
    value: 'T',
    help: 'Require "Authorization: Bearer T" on POST /publish (401 without, 403 wrong).',
  },
  {
    flag: 'jwt-secret',
    env: 'SSEKIT_JWT_SECRET',
    type: 'string',
    value: 'S',
    help: 'Accept JWTs signed with this HMAC secret (HS256/384/512); see "JWT claims" below.',
  },
  {
    flag: 'jwt-public-key',
    env: 'SSEKIT_JWT_PUBLIC_KEY',
    type: 'string',
    value: 'PEM|FILE',
    help: 'Accept JWTs signed with the private half of this public key (RS*, PS*, ES*, EdDSA): PEM text or a file.',
  },
  {
    flag: 'allow-anonymous',
    env: 'SSEKIT_ALLOW_ANONYMOUS',
    type: 'boolean',
    help: 'With a JWT key: let subscribers without a token in (publishers still need one).',
  },
  {
    flag: 'cors-origin',
    env: 'SSEKIT_CORS_ORIGIN',
    type: 'string',
    value: 'O[,O]',
    help: 'Origins allowed to subscribe and publish from a browser on another origin; * for any.',
  },
  {
    flag: 'auto-stream',
    env: 'SSEKIT_AUTO_STREAM',
    type: 'boolean',
    help: 'Subscribing to a stream nobody published to yet waits for it (default: 404).',
  },
  {
    flag: 'max-body',
    env: 'SSEKIT_MAX_BODY',
    type: 'string',
    value: 'BYTES',
    default: '1048576',
    help: 'Largest POST /publish body (413 beyond).',
  },
  {
    flag: 'max-stream-name',
    env: 'SSEKIT_MAX_STREAM_NAME',
    type: 'string',
    value: 'N',
    default: '256',
    help: 'Longest stream name in characters (400 beyond; at most 256).',
  },
  {
    flag: 'max-subscribers',
    env: 'SSEKIT_MAX_SUBSCRIBERS',
    type: 'string',
    value: 'N',
    default: '10000',
    help: 'Subscribers per stream on this hub (429 beyond).',
  },
  {
    flag: 'max-subscribers-per-client',
    env: 'SSEKIT_MAX_SUBSCRIBERS_PER_CLIENT',
    type: 'string',
    value: 'N',
    default: '1000',
    help: 'Open subscriptions from one client address on this hub (429 beyond).',
  },
  {
    flag: 'max-connections',
    env: 'SSEKIT_MAX_CONNECTIONS',
    type: 'string',
    value: 'N',
    default: '50000',
    help: 'Open subscriptions on this hub in all (503 beyond).',
  },
  {
    flag: 'max-streams',
    env: 'SSEKIT_MAX_STREAMS',
    type: 'string',
    value: 'N',
    default: '10000',
    help: 'Streams this hub holds at once (503 on creating one more).',
  },
  {
    flag: 'stream-idle',
    env: 'SSEKIT_STREAM_IDLE_MS',
    type: 'string',
    value: 'MS',
    default: '300000',
    help: 'Let go of a stream with no subscriber and no publish for this long (in memory: only once it holds no history).',
  },
  {
    flag: 'keep-alive',
    env: 'SSEKIT_KEEP_ALIVE_MS',
    type: 'string',
    value: 'MS',
    default: '15000',
    help: 'Send a comment line this often so proxies keep idle streams open (0: off).',
  },
  {
    flag: 'max-write-delay',
    env: 'SSEKIT_MAX_WRITE_DELAY_MS',
    type: 'string',
    value: 'MS',
    default: '20',
    help: 'A stream getting events faster than it can write them joins them for up to this long (0: never).',
  },
  {
    flag: 'retry',
    env: 'SSEKIT_RETRY_MS',
    type: 'string',
    value: 'MS',
    help: 'Send "retry: MS" to subscribers: the base of their reconnect delay.',
  },
  {
    flag: 'log-format',
    env: 'SSEKIT_LOG_FORMAT',
    type: 'string',
    value: 'text|json',
    default: 'text',
    help: 'Log lines as text or one JSON object per line (stderr).',
  },
  {
    flag: 'log-level',
    env: 'SSEKIT_LOG_LEVEL',
    type: 'string',
    value: 'L',
    default: 'info',
    help: 'error, warn, info, or debug (debug logs every subscribe and publish).',
  },
];

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface ServeConfig {
  port: number;
  host: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  history: number;
  publishToken: string | undefined;
  jwtSecret: string | undefined;
  jwtPublicKey: string | undefined;
  allowAnonymous: boolean;
  corsOrigin: string[] | true | undefined;
  autoStream: boolean;
  maxBody: number;
  maxStreamName: number;
  maxSubscribers: number;
  maxSubscribersPerClient: number;
  maxConnections: number;
  maxStreams: number;
  streamIdleMs: number;
  keepAliveMs: number;
  maxWriteDelayMs: number;
  retryMs: number | undefined;
  logFormat: LogFormat;
  logLevel: LogLevel;
}

/** `ssekit serve` options: a flag wins over its environment variable, which wins over the default. */
export function parseServe(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const o of SERVE_OPTIONS) options[o.flag] = { type: o.type };
  const { values, positionals } = parse(argv, options);
  if (values.help) return 'help';
  if (positionals.length > 0) {
    throw new UsageError(`serve takes no arguments, got "${positionals[0]}"`);
  }
  const raw = (flag: string): string | undefined => {
    const spec = SERVE_OPTIONS.find((o) => o.flag === flag)!;
    const v = values[flag];
    if (typeof v === 'string') return v;
    if (v === true) return 'true';
    const fromEnv = env[spec.env];
    return fromEnv === undefined || fromEnv === '' ? spec.default : fromEnv;
  };
  const int = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = raw(flag)!;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) {
      throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${v}"`);
    }
    return n;
  };
  const bool = (flag: string): boolean => {
    const v = raw(flag);
    if (v === undefined) return false;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)?$/i.test(v)) return false;
    throw new UsageError(`--${flag} (${specOf(flag).env}) must be true or false, got "${v}"`);
  };
  const oneOf = <T extends string>(flag: string, allowed: readonly T[]): T => {
    const v = raw(flag)!;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
    }
    return v as T;
  };
  const cors = raw('cors-origin');
  const retry = raw('retry');
  return {
    port: int('port', 0, 65535),
    host: raw('host')!,
    redisUrl: raw('redis'),
    redisPrefix: raw('redis-prefix')!,
    history: int('history', 1),
    publishToken: raw('publish-token'),
    jwtSecret: raw('jwt-secret'),
    jwtPublicKey: raw('jwt-public-key'),
    allowAnonymous: bool('allow-anonymous'),
    corsOrigin:
      cors === undefined
        ? undefined
        : cors.trim() === '*'
          ? true
          : cors
              .split(',')
              .map((o) => o.trim())
              .filter(Boolean),
    autoStream: bool('auto-stream'),
    maxBody: int('max-body', 1),
    maxStreamName: int('max-stream-name', 1, 256),
    maxSubscribers: int('max-subscribers', 1),
    maxSubscribersPerClient: int('max-subscribers-per-client', 1),
    maxConnections: int('max-connections', 1),
    maxStreams: int('max-streams', 1),
    streamIdleMs: int('stream-idle', 1000),
    keepAliveMs: int('keep-alive', 0),
    maxWriteDelayMs: int('max-write-delay', 0, 60_000),
    retryMs: retry === undefined ? undefined : int('retry', 0),
    logFormat: oneOf('log-format', ['text', 'json'] as const),
    logLevel: oneOf('log-level', ['error', 'warn', 'info', 'debug'] as const),
  };
}

function specOf(flag: string): OptionSpec {
  return SERVE_OPTIONS.find((o) => o.flag === flag)!;
}

/** node:util parseArgs, with its errors turned into a UsageError that names the command's help. */
export function parse(
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's own text for an unknown flag goes on about positionals after '--'.
    const unknown = /^Unknown option '([^']+)'/.exec(err instanceof Error ? err.message : '');
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}`);
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export const MAIN_HELP = `ssekit — Server-Sent Events hub and command-line client

Usage:
  ssekit serve [options]                          run the hub (ssekit serve --help)
  ssekit subscribe URL [--stream NAME] [options]  print events as they arrive
  ssekit publish URL --stream NAME [options] DATA publish one event (or --stdin: one per line)
  ssekit --version

URL is the endpoint itself: http://127.0.0.1:8080/events to subscribe, …/publish to publish.
Run "ssekit <command> --help" for a command's options.
`;

export function serveHelp(): string {
  const lines = SERVE_OPTIONS.map((o) => {
    const flag = `--${o.flag}${o.value ? ` ${o.value}` : ''}`;
    const def = o.default ? ` [default ${o.default}]` : '';
    return `  ${flag.padEnd(26)}${o.help}${def}\n  ${''.padEnd(26)}env ${o.env}`;
  });
  return `Usage: ssekit serve [options]

Runs an SSE hub: any program publishes over HTTP, any browser subscribes.

Endpoints:
  GET  /events?stream=NAME    subscribe (text/event-stream); Last-Event-ID (or ?lastEventId=) replays
  POST /publish?stream=NAME   publish; the body is the data (text), or JSON {data, id?, event?, retry?},
                              or a JSON array of those (published in order). Replies {"ids": [...]}.
                              Publishing creates the stream.
  GET  /                      a page that watches a stream live and publishes to it
  GET  /healthz               200 ok; 503 while Redis is unreachable (with --redis) or shutting down
  GET  /metrics               Prometheus metrics

Options (a flag wins over its environment variable; booleans take true/false in the environment):
${lines.join('\n')}
  -h, --help                help

JWT claims (with --jwt-secret or --jwt-public-key): a token is sent as "Authorization: Bearer JWT"
(or ?token=JWT on /events, for browsers' EventSource) and lists the streams it grants:
  {"ssekit": {"subscribe": ["chat/*", "news"], "publish": ["chat/*"]}, "exp": 1767225600}
A pattern is a stream name where "*" matches any run of characters (including "/"); "*" alone
matches every stream. exp and nbf are checked. An expired or badly signed token gets 401, a token
that does not list the stream gets 403. With --publish-token as well, publishers may use either.

SIGTERM or SIGINT ends every stream cleanly (clients reconnect elsewhere) and exits 0 within 5 s.
`;
}

export const SUBSCRIBE_HELP = `Usage: ssekit subscribe URL [options]

Prints each event as it arrives, reconnecting with backoff and resuming from the last event id.
URL is the events endpoint, e.g. http://127.0.0.1:8080/events.

Options:
  --stream NAME          the stream (added as ?stream=NAME)
  --header 'K: V'        a request header; repeat for more (e.g. --header 'Authorization: Bearer T')
  --token T              shorthand for --header 'Authorization: Bearer T' [env SSEKIT_TOKEN]
  --last-event-id ID     resume after this event id
  --json                 one JSON object {id, event, data} per line (NDJSON)
  --count N              exit 0 after N events
  -h, --help             help

Without --json each event prints as "[id] event: data" (data lines indented after the first).
Exits 1 with the server's reason when it refuses the subscription (4xx), 2 on wrong usage.
`;

export const PUBLISH_HELP = `Usage: ssekit publish URL --stream NAME [options] DATA
       ssekit publish URL --stream NAME --stdin [options] < lines

Publishes DATA (or each line of stdin) as an event and prints the id(s) the hub gave.
URL is the publish endpoint, e.g. http://127.0.0.1:8080/publish.

Options:
  --stream NAME          the stream (required)
  --event TYPE           the event type (default: message)
  --id ID                the event id (default: the hub makes one; not with --stdin)
  --retry MS             a retry value for subscribers
  --token T              sent as "Authorization: Bearer T" [env SSEKIT_TOKEN]
  --stdin                one event per line of standard input, in order (progress on stderr)
  -h, --help             help

Exits 1 with the hub's reason when it refuses (4xx/5xx), 2 on wrong usage.
`;
