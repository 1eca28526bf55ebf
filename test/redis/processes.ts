import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, type ClientRequest, get, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { EventParser, type SSEEvent } from 'ssekit/protocol';

const fixture = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));

/** An SSEServer child process (test/redis/fixtures/server.ts) on loopback. */
export class ServerProcess {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  static start(env: Record<string, string>): Promise<ServerProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`server process did not start:\n${out}`));
      }, 20_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /LISTENING (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          proc.stdout?.resume();
          resolve(new ServerProcess(proc, Number(m[1])));
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server process exited with ${code}:\n${out}`));
      });
    });
  }

  events(stream: string): string {
    return `http://127.0.0.1:${this.port}/events?stream=${encodeURIComponent(stream)}`;
  }

  /** Publishes through this process; resolves with the id, rejects with the HTTP status on failure. */
  publish(stream: string, data: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        `http://127.0.0.1:${this.port}/publish?stream=${encodeURIComponent(stream)}`,
        { method: 'POST', agent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(text)
              : reject(Object.assign(new Error(text), { status: res.statusCode })),
          );
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  /** kill -9: no goodbye to anyone. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** An SSE subscriber over raw node:http, parsed by ssekit's EventParser; reconnects on request. */
export class Subscriber {
  readonly events: SSEEvent[] = [];
  private readonly parser = new EventParser({ onEvent: (e) => this.events.push(e) });
  private req: ClientRequest | undefined;
  connected = false;
  /** Times the connection ended without `close()`. */
  drops = 0;

  /** Connects (again) to `url`, sending Last-Event-ID when the parser has one; resolves on 200. */
  connect(url: string, lastEventId?: string): Promise<void> {
    this.close();
    this.parser.reset();
    if (lastEventId !== undefined) this.parser.lastEventId = lastEventId;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.parser.lastEventId !== '') headers['last-event-id'] = this.parser.lastEventId;
    return new Promise((resolve, reject) => {
      const req = get(url, { headers }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`subscribe answered ${res.statusCode}`));
          res.resume();
          return;
        }
        this.connected = true;
        res.on('data', (c: Buffer) => this.parser.feed(c));
        res.on('close', () => {
          if (this.req === req) {
            this.connected = false;
            this.drops++;
          }
        });
        resolve();
      });
      req.on('error', (err) => {
        if (this.req === req) {
          this.connected = false;
        }
        reject(err);
      });
      this.req = req;
    });
  }

  get lastEventId(): string {
    return this.parser.lastEventId;
  }

  /** The data of the events received, `reset` events marked as `<reset>`. */
  get data(): string[] {
    return this.events.map((e) => (e.event === 'reset' ? '<reset>' : e.data));
  }

  get ids(): string[] {
    return this.events.filter((e) => e.event !== 'reset').map((e) => e.id);
  }

  close(): void {
    const req = this.req;
    this.req = undefined;
    this.connected = false;
    req?.destroy();
  }
}
