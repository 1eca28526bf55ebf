import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisServerPath } from '../support/env.js';
import { sleep, until } from '../support/wait.js';

const run = promisify(execFile);

export const haveRedis = redisServerPath !== undefined;

/** A port the kernel just handed out on loopback (free at that moment). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

export { sleep, until };

/** A private redis-server on loopback, without persistence, that a test may stop and restart. */
export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly extra: string[],
    private readonly dir: string,
  ) {}

  static async start(extra: string[] = []): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'ssekit-redis-'));
    const server = new RedisServer(await freePort(), extra, dir);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, empty) on the same port. */
  async restart(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    args.push('--dir', this.dir, ...this.extra);
    const proc = spawn(redisServerPath ?? '/usr/bin/redis-server', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${out}`)),
        10_000,
      );
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${out}`));
      });
    });
    proc.stdout?.resume();
    proc.stderr?.resume();
  }

  /** Stops the server (SIGKILL: no goodbye to clients) and waits until it has exited. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing is answered, as in a hang. */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** Lets a frozen server go on (SIGCONT). */
  thaw(): void {
    this.proc?.kill('SIGCONT');
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args]);
    return stdout.trim();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A 3-master Redis Cluster on loopback (no replicas). */
export class RedisClusterNodes {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(): Promise<RedisClusterNodes> {
    const nodes: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await RedisServer.start([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
        ]),
      );
    }
    const cluster = new RedisClusterNodes(nodes);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const n of nodes) {
      await until(
        async () => (await n.cli('cluster', 'info')).includes('cluster_state:ok'),
        20_000,
        'cluster_state:ok',
      );
    }
    return cluster;
  }

  get rootNodes(): { url: string }[] {
    return this.nodes.map((n) => ({ url: n.url }));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()));
  }
}
