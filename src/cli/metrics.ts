import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
  HistoryLimits,
  HistoryResult,
  UnsubscribeReason,
} from '../server/index.js';

/**
 * The hub's Prometheus metrics. Only the subscriber gauge is labelled by stream (and a stream's
 * series goes away when its last subscriber does), so many short-lived streams cannot blow up
 * the number of series.
 */
export class HubMetrics {
  readonly registry = new Registry();
  private readonly subscribers = new Gauge({
    name: 'ssekit_subscribers',
    help: 'Open subscribers on this hub, per stream.',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  private readonly unsubscribes = new Counter({
    name: 'ssekit_unsubscribes_total',
    help: 'Subscribers that went away, by reason (client-closed, slow-subscriber, server-closed, error).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly slowDropped = new Counter({
    name: 'ssekit_slow_subscribers_dropped_total',
    help: 'Subscribers disconnected because they fell more than maxQueuedBytes behind.',
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'ssekit_events_published_total',
    help: 'Events published through this hub (POST /publish).',
    registers: [this.registry],
  });
  readonly publishFailures = new Counter({
    name: 'ssekit_publish_failures_total',
    help: 'Publish requests refused or failed, by HTTP status.',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly delivered = new Counter({
    name: 'ssekit_events_delivered_total',
    help: 'Live events sent to subscribers on this hub (one per event per subscriber).',
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'ssekit_replays_total',
    help: 'Subscribes with a Last-Event-ID that were answered from history.',
    registers: [this.registry],
  });
  private readonly replayed = new Counter({
    name: 'ssekit_replayed_events_total',
    help: 'Events sent from history on Last-Event-ID replays.',
    registers: [this.registry],
  });
  private readonly resets = new Counter({
    name: 'ssekit_resets_total',
    help: 'Reset events: a Last-Event-ID that could not be resumed from, or a broker gap.',
    registers: [this.registry],
  });
  readonly publishLatency = new Histogram({
    name: 'ssekit_publish_duration_seconds',
    help: 'Time from a publish request being read to the broker holding its events.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** Open subscribers per stream on this hub, for delivery counts and the per-stream limit. */
  private readonly counts = new Map<string, number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ssekit_' });
  }

  /** Report how many streams the hub holds, read at each scrape. */
  countStreams(count: () => number): void {
    new Gauge({
      name: 'ssekit_streams',
      help: 'Streams this hub holds (idle ones are let go after --stream-idle).',
      registers: [this.registry],
      collect() {
        this.set(count());
      },
    });
  }

  subscriberCount(stream: string): number {
    return this.counts.get(stream) ?? 0;
  }

  subscribed(stream: string): void {
    this.counts.set(stream, this.subscriberCount(stream) + 1);
    this.subscribers.inc({ stream });
  }

  unsubscribed(stream: string, reason: UnsubscribeReason): void {
    const n = this.subscriberCount(stream) - 1;
    if (n <= 0) {
      this.counts.delete(stream);
      this.subscribers.remove({ stream });
    } else {
      this.counts.set(stream, n);
      this.subscribers.dec({ stream });
    }
    this.unsubscribes.inc({ reason });
    if (reason === 'slow-subscriber') this.slowDropped.inc();
  }

  /** Wrap a broker so that deliveries, replays and resets are counted where they happen. */
  meter(broker: Broker): Broker {
    return {
      publish: (stream: string, message: BrokerMessage, limits: HistoryLimits) =>
        broker.publish(stream, message, limits),
      tryPublish: (stream: string, message: BrokerMessage, limits: HistoryLimits) =>
        broker.tryPublish(stream, message, limits),
      history: async (stream: string, lastEventId: string, limits: HistoryLimits) => {
        const result: HistoryResult = await broker.history(stream, lastEventId, limits);
        if (result.resumable) this.replays.inc();
        else this.resets.inc();
        this.replayed.inc(result.events.length);
        return result;
      },
      listen: (stream: string, listener: BrokerListener) =>
        broker.listen(stream, {
          onEvent: (event) => {
            this.delivered.inc(this.subscriberCount(stream));
            listener.onEvent(event);
          },
          onGap: (reason) => {
            this.resets.inc();
            listener.onGap?.(reason);
          },
        }),
      drop: broker.drop ? (stream: string) => broker.drop!(stream) : undefined,
      close: () => broker.close(),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
