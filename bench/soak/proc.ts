/**
 * Child processes for the soak: each runs a TypeScript file through tsx with its file-descriptor
 * limit raised to the hard limit, and talks over IPC. `killAll` ends every one still alive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Send a message and wait for the answer with the same op. */
  ask<T>(msg: { op: string; [k: string]: unknown }, timeoutMs?: number): Promise<T>;
  /** Wait for a message the child sends by itself. */
  next<T>(op: string, timeoutMs?: number): Promise<T>;
}

const live = new Set<ChildProcess>();

export function spawnChild(
  file: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Child {
  const path = fileURLToPath(new URL(file, import.meta.url));
  // The limit is raised in the shell that execs node, so it holds for node alone.
  const shell = 'ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const proc = spawn(
    'sh',
    ['-c', shell, 'sh', process.execPath, ...nodeFlags, '--import', 'tsx', path],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const waiting = new Map<string, Array<(m: unknown) => void>>();
  const early = new Map<string, unknown[]>();
  proc.on('message', (m: { op: string }) => {
    const list = waiting.get(m.op);
    const w = list?.shift();
    if (w) w(m);
    else early.set(m.op, [...(early.get(m.op) ?? []), m]);
  });
  const next = <T>(op: string, timeoutMs = 120_000): Promise<T> => {
    const queued = early.get(op);
    if (queued && queued.length > 0) return Promise.resolve(queued.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${file}: no "${op}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onExit = () => reject(new Error(`${file} exited while waiting for "${op}"`));
      proc.once('exit', onExit);
      const list = waiting.get(op) ?? [];
      list.push((m) => {
        clearTimeout(timer);
        proc.off('exit', onExit);
        resolve(m as T);
      });
      waiting.set(op, list);
    });
  };
  return {
    proc,
    next,
    ask<T>(msg: { op: string; [k: string]: unknown }, timeoutMs?: number) {
      const answer = next<T>(msg.op, timeoutMs);
      proc.send(msg);
      return answer;
    },
  };
}

/** SIGKILL every child still running. */
export function killAll(): void {
  for (const proc of live) proc.kill('SIGKILL');
}
