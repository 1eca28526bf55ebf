/**
 * Child processes for load benchmarks. Each child script is bundled with esbuild the way tsup
 * builds the package (ESM, node20, names not kept), so the servers run the code users get: under
 * tsx every named arrow gets a `name` property and a per-closure properties store, which adds
 * about 0.5 KB to each ssekit connection. Children run on plain node with a raised
 * file-descriptor limit and answer requests over IPC; `killAll` ends every one of them, and the
 * benchmark calls it on exit, on error and on a signal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Enough for 10,000 connections and the odd pipe; the hard limit is raised when allowed. */
export const FD_LIMIT = 65536;

export interface Request {
  op: string;
  [key: string]: unknown;
}

export interface Child {
  readonly pid: number;
  request<T = Record<string, unknown>>(msg: Request, timeoutMs?: number): Promise<T>;
  /** Ask the child to exit (so `--cpu-prof` gets written), then kill it if it lingers. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

const CHILD_SCRIPTS = ['server-child', 'subscriber-child'] as const;
export type ChildScript = (typeof CHILD_SCRIPTS)[number];
let bundleDir: string | undefined;

/** Bundle the child scripts (with ssekit's source and better-sse) into a temporary directory. */
export async function bundleChildren(): Promise<void> {
  if (bundleDir !== undefined) return;
  const dir = mkdtempSync(join(tmpdir(), 'ssekit-bench-'));
  bundleDir = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await build({
    entryPoints: CHILD_SCRIPTS.map((name) => fileURLToPath(new URL(`${name}.ts`, import.meta.url))),
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
}

/** Run a bundled child script: `node [flags] <script>.mjs [args]`. */
export function spawnChild(
  script: ChildScript,
  args: string[] = [],
  nodeFlags: string[] = [],
): Child {
  if (bundleDir === undefined) throw new Error('call bundleChildren() first');
  const path = join(bundleDir, `${script}.mjs`);
  // `ulimit` in the shell that execs node: the limit holds for node and nothing else.
  const shell = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
  const proc = spawn('sh', ['-c', shell, 'sh', process.execPath, ...nodeFlags, path, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(proc);
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      live.delete(proc);
      for (const { reject } of pending.values()) reject(new Error(`${script} exited`));
      pending.clear();
      resolve();
    });
  });
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  proc.on('message', (msg: { id: number; error?: string }) => {
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) waiter.reject(new Error(`${script}: ${msg.error}`));
    else waiter.resolve(msg as never);
  });
  return {
    pid: proc.pid ?? -1,
    request<T>(msg: Request, timeoutMs = 60_000): Promise<T> {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: no answer to ${msg.op} in ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ ...msg, id });
      });
    },
    async stop(timeoutMs = 5000): Promise<void> {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (proc.connected) proc.send({ op: 'exit', id: 0 });
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kill every child still running. */
export function killAll(): void {
  for (const proc of live) proc.kill('SIGKILL');
  live.clear();
}

/** Kill the children however the benchmark ends, and end it if it overruns `maxMs`. */
export function guard(maxMs: number): void {
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  setTimeout(() => {
    console.error(`benchmark overran ${maxMs / 1000} s: stopping`);
    killAll();
    process.exit(1);
  }, maxMs).unref();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
