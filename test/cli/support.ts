import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EventParser, type SSEEvent } from 'ssekit/protocol';
import { until } from '../support/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The built bin, as users run it (`npm test` builds first). SSEKIT_CLI_FROM_SOURCE=1 runs src with tsx. */
const BIN = process.env.SSEKIT_CLI_FROM_SOURCE
  ? ['node', '--import', 'tsx', 'src/cli/main.ts']
  : ['node', 'dist/cli/main.js'];

export { until };

export interface HubProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the hub logged so far. */
  stderr(): string;
  /** Send a signal and resolve with the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const running = new Set<HubProcess>();

/** `ssekit serve` on a free loopback port (or `port`); resolves once it prints its URL. */
export async function startHub(
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<HubProcess> {
  const withPort = args.includes('--port') ? args : ['--port', '0', ...args];
  const proc = spawn(BIN[0]!, [...BIN.slice(1), 'serve', ...withPort], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  proc.stdout!.resume();
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  let url = '';
  await Promise.race([
    until(
      () => {
        const m = /hub listening on (http:\/\/\S+)/.exec(err) ?? /"url":"(http:[^"]+)"/.exec(err);
        if (m) url = m[1]!;
        return url !== '';
      },
      30_000,
      'the hub to start',
    ),
    exited.then((code) => {
      throw new Error(`the hub exited with ${code} before listening:\n${err}`);
    }),
  ]);
  const hub: HubProcess = {
    url,
    port: Number(new URL(url).port),
    proc,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      running.delete(hub);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  running.add(hub);
  return hub;
}

/** Stop every hub a test left running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((h) => h.stop('SIGKILL')));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `ssekit ARGS` to completion (bounded by `timeoutMs`), optionally with stdin. */
export async function run(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const child = startCommand(args, opts.env);
  child.proc.stdin!.end(opts.input ?? '');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** Start `ssekit ARGS` and return at once: for long-running commands like subscribe. */
export function startCommand(args: string[], env: Record<string, string> = {}) {
  const proc = spawn(BIN[0]!, [...BIN.slice(1), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  return { proc, exited, stdout: () => out, stderr: () => err };
}

/** A raw subscriber over fetch and the protocol parser. */
export async function listen(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: SSEEvent[] = [];
  const parser = new EventParser({ onEvent: (e) => events.push(e) });
  const ended = (async () => {
    if (!response.body) return 'no-body' as const;
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'clean' as const;
        parser.feed(value);
      }
    } catch {
      return abort.signal.aborted ? ('aborted' as const) : ('error' as const);
    }
  })();
  return {
    response,
    events,
    ended,
    waitFor: async (n: number) => {
      await until(() => events.length >= n, 10_000, `${n} events (have ${events.length})`);
      return events;
    },
    close: () => abort.abort(),
  };
}

export async function publish(
  hub: string,
  stream: string,
  body: string,
  headers: Record<string, string> = {},
) {
  return fetch(`${hub}/publish?stream=${encodeURIComponent(stream)}`, {
    method: 'POST',
    headers,
    body,
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A redis-server of our own on a free loopback port, without persistence. */
export async function startRedis(path: string, port?: number) {
  const p = port ?? (await freePort());
  const proc = spawn(
    path,
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = once(proc, 'exit');
  await until(() => out.includes('Ready to accept connections'), 10_000, 'redis-server');
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
