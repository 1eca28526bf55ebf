import { HttpStatusError, SSEClient, type SSEEvent } from '../client/index.js';
import { parse, SUBSCRIBE_HELP, UsageError } from './config.js';

/** `ssekit subscribe URL …`: print events until interrupted; resolves with the exit code. */
export async function subscribeCommand(argv: string[], env = process.env): Promise<number> {
  const { values, positionals } = parse(argv, {
    stream: { type: 'string' },
    header: { type: 'string', multiple: true },
    token: { type: 'string' },
    'last-event-id': { type: 'string' },
    json: { type: 'boolean' },
    count: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SUBSCRIBE_HELP);
    return 0;
  }
  const url = endpoint(positionals, 'subscribe', 'http://127.0.0.1:8080/events');
  const headers = new Headers();
  for (const h of (values.header as string[] | undefined) ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like 'Name: value', got "${h}"`);
    headers.append(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
  }
  const token = (values.token as string | undefined) ?? env.SSEKIT_TOKEN;
  if (token && !headers.has('authorization')) headers.set('Authorization', `Bearer ${token}`);
  const countRaw = values.count as string | undefined;
  const count = countRaw === undefined ? Number.POSITIVE_INFINITY : Number(countRaw);
  if (!(count > 0) || (!Number.isInteger(count) && count !== Number.POSITIVE_INFINITY)) {
    throw new UsageError(`--count must be a whole number above 0, got "${countRaw}"`);
  }
  const json = values.json === true;

  // The client reports a refusal by status; keep the server's reason to show it.
  let refusal = '';
  const fetchKeepingReason: typeof fetch = async (input, init) => {
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (err) {
      // Otherwise a server that is down would look like a silent hang.
      if (!init?.signal?.aborted) {
        const why = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
        process.stderr.write(`ssekit subscribe: cannot connect (${why}); retrying\n`);
      }
      throw err;
    }
    if (!res.ok) {
      refusal = (await res.clone().text()).trim().slice(0, 500);
      if (res.status >= 500 || res.status === 408 || res.status === 429) {
        process.stderr.write(`ssekit subscribe: HTTP ${res.status} ${refusal}; retrying\n`);
      }
    }
    return res;
  };
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let seen = 0;
  const client = new SSEClient(url, {
    headers,
    fetch: fetchKeepingReason,
    ...(values['last-event-id'] === undefined
      ? {}
      : { lastEventId: values['last-event-id'] as string }),
    onDisconnect: (error) => {
      if (controller.signal.aborted) return; // our own stop (--count, Ctrl-C), not a drop
      const why = error instanceof Error ? error.message : 'the server ended the stream';
      process.stderr.write(`ssekit subscribe: disconnected (${why}); reconnecting\n`);
    },
  });
  const print = (e: SSEEvent) => {
    if (seen >= count) return;
    process.stdout.write(
      json ? `${JSON.stringify({ id: e.id, event: e.event, data: e.data })}\n` : human(e),
    );
    if (++seen >= count) controller.abort();
  };
  try {
    const stream = values.stream as string | undefined;
    if (stream === undefined) await client.subscribeRaw(print, { signal: controller.signal });
    else await client.subscribe(stream, print, { signal: controller.signal });
    return 0;
  } catch (err) {
    if (err instanceof HttpStatusError) {
      process.stderr.write(
        `ssekit subscribe: ${err.url} refused the subscription with HTTP ${err.status}${refusal ? `: ${refusal}` : ''}\n`,
      );
    } else {
      process.stderr.write(
        `ssekit subscribe: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    }
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function human(e: SSEEvent): string {
  const data = e.data.replace(/\n/g, '\n    ');
  return `${e.id ? `[${e.id}] ` : ''}${e.event}: ${data}\n`;
}

/** The one positional argument: the endpoint URL, as for SSEClient. */
export function endpoint(positionals: string[], command: string, example: string): string {
  if (positionals.length === 0)
    throw new UsageError(`${command} needs the endpoint URL, e.g. ${example}`);
  const raw = positionals[0]!;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
    return u.href;
  } catch {
    throw new UsageError(`"${raw}" is not an http(s) URL; give the endpoint, e.g. ${example}`);
  }
}
