/**
 * Holds many SSE subscribers over raw node:http and checks every event: each stream's events
 * carry a sequence number, so each subscriber counts events lost, doubled and out of order, and
 * records publish-to-receive latency (events published before the current connection opened,
 * i.e. replayed ones, are checked but not timed).
 *
 * env: PORTS (comma-separated server ports), STREAMS, COUNT (subscribers here), FIRST (global
 * index of the first, for the stream assignment), LOCAL_ADDRS (source addresses to spread
 * connections over), SLOW (fraction that stop reading), CHURN_S (mean seconds between a
 * subscriber's random disconnects; 0: never).
 * IPC: sends {op:'ready'} when all are connected and {op:'tick', …} every second; answers
 * {op:'slow'} (the slow ones stop reading) and {op:'finish', seq} with the final counts.
 */
import { Agent, type ClientRequest, get, type IncomingMessage } from 'node:http';
import { EventParser } from '../../src/protocol/index.js';

const env = process.env;
const ports = (env.PORTS ?? '').split(',').map(Number);
const streams = Number(env.STREAMS ?? 100);
const count = Number(env.COUNT ?? 100);
const first = Number(env.FIRST ?? 0);
const localAddrs = (env.LOCAL_ADDRS ?? '127.0.0.1').split(',');
const slowFraction = Number(env.SLOW ?? 0);
const churnS = Number(env.CHURN_S ?? 0);
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** Latency histogram: 0.1 ms buckets up to 60 s. */
const BUCKETS = 600_000;
const hist = new Uint32Array(BUCKETS);
const tickHist = new Uint32Array(BUCKETS);
let tickMax = 0;

let delivered = 0;
let lost = 0;
let doubled = 0;
let gaps = 0;
let reconnects = 0;
let unexpectedDrops = 0;
let resets = 0;
/** How long connects took (request to response headers), ms, since the last tick. */
let connectTimes: number[] = [];

class Sub {
  readonly stream: number;
  readonly slow: boolean;
  last = 0;
  connectedAt = 0;
  req: ClientRequest | undefined;
  res: IncomingMessage | undefined;
  connected = false;
  stopped = false;
  port = 0;
  private readonly parser: EventParser;

  constructor(readonly index: number) {
    this.stream = index % streams;
    // Every tenth-ish subscriber by a fixed spread, so each stream has its share of slow ones.
    this.slow = slowFraction > 0 && (index * 7919) % 1000 < slowFraction * 1000;
    this.parser = new EventParser({
      onEvent: (e) => {
        if (e.event === 'reset') {
          resets++;
          return;
        }
        const space = e.data.indexOf(' ');
        const q = Number(e.data.slice(0, space));
        const sent = Number(e.data.slice(space + 1, e.data.indexOf(' ', space + 1)));
        this.check(q, sent);
      },
    });
  }

  private check(q: number, sent: number) {
    delivered++;
    if (q === this.last + 1) this.last = q;
    else if (q <= this.last) {
      if (this.slow) return;
      doubled++;
    } else {
      if (!this.slow) {
        lost += q - this.last - 1;
        gaps++;
        console.error(
          `soak: subscriber ${this.index} on s${this.stream} got seq ${q} after ${this.last} ` +
            `(${Math.round(performance.timeOrigin + performance.now() - this.connectedAt)} ms into port ${this.port}, id ${this.parser.lastEventId})`,
        );
      }
      this.last = q;
    }
    if (sent < this.connectedAt) return; // replayed: checked above, not timed
    const ms = performance.timeOrigin + performance.now() - sent;
    const b = Math.min(BUCKETS - 1, Math.max(0, Math.round(ms * 10)));
    hist[b]!++;
    tickHist[b]!++;
    if (ms > tickMax) tickMax = ms;
  }

  connect(): Promise<void> {
    const port = ports[Math.floor(Math.random() * ports.length)]!;
    this.port = port;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.parser.lastEventId !== '') headers['last-event-id'] = this.parser.lastEventId;
    this.parser.reset();
    this.connectedAt = performance.timeOrigin + performance.now();
    return new Promise((resolve) => {
      const req = get(
        {
          host: '127.0.0.1',
          port,
          path: `/events?stream=s${this.stream}`,
          headers,
          agent,
          localAddress: localAddrs[this.index % localAddrs.length],
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            req.destroy();
            return;
          }
          this.res = res;
          this.connected = true;
          connectTimes.push(performance.timeOrigin + performance.now() - this.connectedAt);
          res.on('data', (chunk: Buffer) => this.parser.feed(chunk));
          res.on('close', () => this.closed(req));
          resolve();
        },
      );
      req.on('error', () => {
        this.closed(req);
        resolve();
      });
      this.req = req;
    });
  }

  private closed(req: ClientRequest) {
    if (this.req !== req) return;
    this.connected = false;
    this.req = undefined;
    if (this.stopped || this.slow) return;
    unexpectedDrops++;
    // Back in a moment, from where it left off, as any SSE client would.
    setTimeout(() => void this.reconnect(), 100 + Math.random() * 400);
  }

  async reconnect() {
    if (this.stopped) return;
    reconnects++;
    const req = this.req;
    this.req = undefined;
    req?.destroy();
    await this.connect();
  }

  stopReading() {
    this.res?.pause();
  }

  stop() {
    this.stopped = true;
    this.req?.destroy();
  }
}

const subs = Array.from({ length: count }, (_, i) => new Sub(first + i));
// Connect in waves, so the server's accept queue never overflows.
for (let i = 0; i < subs.length; i += 250) {
  await Promise.all(subs.slice(i, i + 250).map((s) => s.connect()));
}
process.send?.({ op: 'ready', connected: subs.filter((s) => s.connected).length });

let churn: NodeJS.Timeout | undefined;
if (churnS > 0) {
  // Each subscriber drops on its own about every CHURN_S seconds and comes back with Last-Event-ID.
  churn = setInterval(() => {
    const n = (subs.length * 0.1) / churnS;
    const k = Math.floor(n) + (Math.random() < n - Math.floor(n) ? 1 : 0);
    for (let j = 0; j < k; j++) {
      const s = subs[Math.floor(Math.random() * subs.length)]!;
      // Only one that has an id to resume from: SSE cannot resume a subscriber that had
      // nothing yet, so dropping it would lose events by design, not by fault.
      if (s.connected && !s.slow && s.last > 0) void s.reconnect();
    }
  }, 100);
}

function percentile(h: Uint32Array, p: number): number {
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i]!;
  if (total === 0) return 0;
  let want = Math.ceil(total * p);
  for (let i = 0; i < h.length; i++) {
    want -= h[i]!;
    if (want <= 0) return i / 10;
  }
  return (h.length - 1) / 10;
}

let lastDelivered = 0;
let cpu = process.cpuUsage();
setInterval(() => {
  const used = process.cpuUsage(cpu);
  cpu = process.cpuUsage();
  const ct = connectTimes.sort((a, b) => a - b);
  connectTimes = [];
  process.send?.({
    op: 'tick',
    connects: ct.length,
    connectP99: ct[Math.floor(ct.length * 0.99)] ?? 0,
    connectMax: ct[ct.length - 1] ?? 0,
    connectsOver1s: ct.filter((t) => t > 1000).length,
    cpuMicros: used.user + used.system,
    deliveries: delivered - lastDelivered,
    p99: percentile(tickHist, 0.99),
    max: tickMax,
    connected: subs.filter((s) => s.connected).length,
    lost,
    doubled,
  });
  lastDelivered = delivered;
  tickHist.fill(0);
  tickMax = 0;
}, 1000).unref();

process.on('message', (m: { op: string; seq?: Record<string, number> }) => {
  if (m.op === 'slow') {
    for (const s of subs) if (s.slow) s.stopReading();
    process.send?.({ op: 'slow', count: subs.filter((s) => s.slow).length });
  } else if (m.op === 'behind') {
    let behind = 0;
    for (const s of subs) {
      if (!s.slow) behind += Math.max(0, (m.seq?.[String(s.stream)] ?? 0) - s.last);
    }
    process.send?.({ op: 'behind', behind });
  } else if (m.op === 'finish') {
    if (churn) clearInterval(churn);
    // Whatever a subscriber has not received by now, up to its stream's last seq, is lost.
    let tail = 0;
    let short = 0;
    for (const s of subs) {
      if (s.slow) continue;
      const want = m.seq?.[String(s.stream)] ?? 0;
      if (s.last < want) {
        tail += want - s.last;
        short++;
      }
      s.stop();
    }
    const nonzero: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (hist[i]! > 0) nonzero.push([i, hist[i]!]);
    process.send?.({
      op: 'finish',
      delivered,
      lost: lost + tail,
      tailLost: tail,
      subscribersShort: short,
      doubled,
      gaps,
      reconnects,
      unexpectedDrops,
      resets,
      hist: nonzero,
      checked: subs.filter((s) => !s.slow).length,
    });
  }
});
