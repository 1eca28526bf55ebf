/**
 * Helpers for the reliability tests: raw sockets, a loopback TCP proxy that can stall, child
 * processes that are always killed, and waits that are bounded in time.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep, until } from '../support/wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { sleep, until };

export const range = (n: number, prefix = 'e') =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** What a server answered to raw bytes: the status (0 if it closed without one) and the bytes. */
export interface RawAnswer {
  status: number;
  text: string;
}

/**
 * Send `bytes` on a fresh loopback socket and read the answer until the server closes, `done`
 * says enough, or `timeoutMs` passes; the socket is destroyed in every case.
 */
export function rawExchange(
  port: number,
  bytes: Uint8Array | string,
  opts: { timeoutMs?: number; done?: (text: string) => boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 3000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
      if (opts.done?.(text)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}

/**
 * A loopback TCP proxy to `target`. `pause()` stops forwarding (both ways) without closing
 * anything, as a stalled network path does; `resume()` forwards again. Bytes that arrive while
 * paused stay in the kernel's buffers, so the sender sees its socket stop draining.
 */
export class StallProxy {
  private paused = false;
  private readonly pairs = new Set<[Socket, Socket]>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: () => number): Promise<StallProxy> {
    const server = createServer();
    const proxy = new StallProxy(server, 0);
    server.on('connection', (client) => proxy.accept(client, target()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    (proxy as { port: number }).port = (server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections accepted so far. */
  connections = 0;

  private accept(client: Socket, port: number): void {
    this.connections++;
    const upstream = connect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (d) => {
        if (!to.write(d)) from.pause();
      });
      to.on('drain', () => {
        if (!this.paused) from.resume();
      });
      from.on('end', () => to.end());
    };
    pipe(client, upstream);
    pipe(upstream, client);
    if (this.paused) {
      client.pause();
      upstream.pause();
    }
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  pause(): void {
    this.paused = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  resume(): void {
    this.paused = false;
    for (const [a, b] of this.pairs) {
      a.resume();
      b.resume();
    }
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise((r) => this.server.close(r));
  }
}

const children = new Set<ChildProcess>();

/** `node --import tsx <file> …args` from the repository root; killed by `killChildren`. */
export function spawnTs(
  file: string,
  args: string[] = [],
  env: Record<string, string> = {},
): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/** SIGKILL every child still running (a stopped one is continued first so it can die). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (proc) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    }),
  );
}

/** Lines a child writes to stdout, collected as they come. */
export function lines(proc: ChildProcess): string[] {
  const out: string[] = [];
  let partial = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    out.push(...parts);
  });
  return out;
}

/** Everything a child writes to stderr, for failure messages. */
export function stderrOf(proc: ChildProcess): () => string {
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    err += d;
  });
  return () => err;
}

/** `ssekit serve` from the sources on a free loopback port; resolves with its URL once it listens. */
export async function startHub(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; proc: ChildProcess; log: () => string }> {
  const proc = spawnTs('src/cli/main.ts', ['serve', '--port', '0', ...args], env);
  const log = stderrOf(proc);
  proc.stdout?.resume();
  let url = '';
  await until(
    () => {
      if (proc.exitCode !== null) throw new Error(`the hub exited early:\n${log()}`);
      const m = /hub listening on (http:\/\/\S+)/.exec(log()) ?? /"url":"(http:[^"]+)"/.exec(log());
      if (m) url = m[1]!;
      return url !== '';
    },
    30_000,
    'the hub to listen',
  );
  return { url, proc, log };
}
