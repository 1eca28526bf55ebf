/** Runs an example as a user would (`tsx examples/<name>/server.ts`) on a free loopback port. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type OpenStream, openStream, waitFor } from '../server/loopback.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningExample {
  /** The subscribe URL the example printed. */
  url: string;
  origin: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function runExample(name: string): Promise<RunningExample> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', `examples/${name}/server.ts`],
    {
      cwd: root,
      // The examples import 'ssekit/server'; this tsconfig maps it to the sources, no build needed.
      env: {
        ...process.env,
        PORT: '0',
        TICK_MS: '25',
        TSX_TSCONFIG_PATH: 'examples/tsconfig.json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c));
  child.stderr!.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let url = '';
  try {
    await waitFor(
      () => {
        url = /listening on (\S+)/.exec(output)?.[1] ?? '';
        return url !== '' || child.exitCode !== null;
      },
      `examples/${name} to listen`,
      20_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (url === '') throw new Error(`examples/${name} exited:\n${output}`);
  return {
    url,
    origin: new URL(url).origin,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * What every clock example must do: ticks arrive in order with ids, a reconnect with
 * Last-Event-ID resumes right after the last one seen, and SIGTERM ends the stream cleanly.
 */
export async function checkClockExample(name: string): Promise<void> {
  const ex = await runExample(name);
  let first: OpenStream | undefined;
  let second: OpenStream | undefined;
  try {
    first = await openStream(ex.url);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('text/event-stream');
    const ticks = await first.log.take(3);
    for (const t of ticks) expect(new Date(t.data).toISOString()).toBe(t.data);
    expect(ticks.map((t) => t.data)).toEqual(ticks.map((t) => t.data).sort());
    expect(new Set(ticks.map((t) => t.id)).size).toBe(3);
    first.close();

    second = await openStream(ex.url, { 'Last-Event-ID': ticks[0]!.id });
    const resumed = await second.log.take(3);
    expect(resumed.slice(0, 2)).toEqual(ticks.slice(1));

    expect(await ex.stop()).toBe(0);
    await second.log.closed();
    expect(second.log.complete).toBe(true);
  } finally {
    first?.close();
    second?.close();
    await ex.stop();
  }
}
