import { createInterface } from 'node:readline';
import { PUBLISH_HELP, parse, UsageError } from './config.js';
import { endpoint } from './subscribe.js';

/** Lines sent per request with --stdin: one JSON array each, so order is kept and calls are few. */
const BATCH = 200;
/** With --stdin, progress goes to stderr every this many events. */
const PROGRESS_EVERY = 1000;

interface Outgoing {
  data: string;
  event?: string;
  id?: string;
  retry?: number;
}

/** `ssekit publish URL --stream NAME … DATA` (or `--stdin`); resolves with the exit code. */
export async function publishCommand(argv: string[], env = process.env): Promise<number> {
  const { values, positionals } = parse(argv, {
    stream: { type: 'string' },
    event: { type: 'string' },
    id: { type: 'string' },
    retry: { type: 'string' },
    token: { type: 'string' },
    stdin: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(PUBLISH_HELP);
    return 0;
  }
  const base = endpoint(positionals, 'publish', 'http://127.0.0.1:8080/publish');
  const stream = values.stream as string | undefined;
  if (!stream) throw new UsageError('publish needs --stream NAME');
  const fromStdin = values.stdin === true;
  if (fromStdin && positionals.length > 1) throw new UsageError('give DATA or --stdin, not both');
  if (!fromStdin && positionals.length !== 2) {
    throw new UsageError(
      'publish needs the data as one argument after the URL (quote it), or --stdin',
    );
  }
  if (fromStdin && values.id !== undefined) {
    throw new UsageError('--id names one event; with --stdin the hub gives each line its own id');
  }
  let retry: number | undefined;
  if (values.retry !== undefined) {
    retry = Number(values.retry);
    if (!/^\d+$/.test(values.retry as string))
      throw new UsageError('--retry must be a whole number of ms');
  }
  const url = new URL(base);
  url.searchParams.set('stream', stream);
  const token = (values.token as string | undefined) ?? env.SSEKIT_TOKEN;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const make = (data: string): Outgoing => ({
    data,
    ...(values.event === undefined ? {} : { event: values.event as string }),
    ...(values.id === undefined ? {} : { id: values.id as string }),
    ...(retry === undefined ? {} : { retry }),
  });

  const send = async (events: Outgoing[]): Promise<string[] | undefined> => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(events.length === 1 ? events[0] : events),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      process.stderr.write(`ssekit publish: could not reach ${url.origin}: ${cause}\n`);
      return undefined;
    }
    const body = await res.text();
    if (!res.ok) {
      process.stderr.write(
        `ssekit publish: the hub refused with HTTP ${res.status}: ${body.trim()}\n`,
      );
      return undefined;
    }
    const ids = idsIn(body);
    if (!ids) {
      process.stderr.write(
        `ssekit publish: ${url.origin}${url.pathname} answered HTTP ${res.status}, but not with the JSON a hub answers ({"ids": [...]}): is it the hub's /publish endpoint? Its reply began: ${JSON.stringify(body.slice(0, 120))}\n`,
      );
      return undefined;
    }
    return ids;
  };

  if (!fromStdin) {
    const ids = await send([make(positionals[1]!)]);
    if (!ids) return 1;
    process.stdout.write(`${ids.join('\n')}\n`);
    return 0;
  }

  let sent = 0;
  let batch: Outgoing[] = [];
  let lastId = '';
  const flush = async (): Promise<boolean> => {
    if (batch.length === 0) return true;
    const ids = await send(batch);
    if (!ids) return false;
    sent += ids.length;
    lastId = ids[ids.length - 1] ?? lastId;
    if (Math.floor(sent / PROGRESS_EVERY) > Math.floor((sent - ids.length) / PROGRESS_EVERY)) {
      process.stderr.write(`ssekit publish: ${sent} events published\n`);
    }
    batch = [];
    return true;
  };
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    batch.push(make(line));
    if (batch.length >= BATCH && !(await flush())) {
      process.stderr.write(`ssekit publish: stopped after ${sent} events\n`);
      return 1;
    }
  }
  if (!(await flush())) {
    process.stderr.write(`ssekit publish: stopped after ${sent} events\n`);
    return 1;
  }
  if (sent >= PROGRESS_EVERY || process.stderr.isTTY) {
    process.stderr.write(`ssekit publish: done, ${sent} events published\n`);
  }
  process.stdout.write(`${sent} events published${lastId ? `, last id ${lastId}` : ''}\n`);
  return 0;
}

/** The event ids in a hub's reply to a publish, or undefined if the body is not that reply. */
function idsIn(body: string): string[] | undefined {
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    return undefined;
  }
  const ids = (reply as { ids?: unknown } | null)?.ids;
  return Array.isArray(ids) && ids.every((id) => typeof id === 'string') ? ids : undefined;
}
