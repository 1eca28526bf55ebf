/** A refusal the hub answers with. */
export interface Refusal {
  status: 429 | 503;
  reason: string;
}

export interface LimitSettings {
  perStream: number;
  perClient: number;
  total: number;
}

/**
 * Open subscriptions per stream, per client address and in all, counted from the moment a request
 * is admitted (not when the library's hook fires), so a burst of connects cannot slip past a limit.
 */
export class SubscriberLimits {
  private readonly byStream = new Map<string, number>();
  private readonly byClient = new Map<string, number>();
  private total = 0;

  constructor(private readonly max: LimitSettings) {}

  /** Open subscriptions to one stream. */
  subscribers(stream: string): number {
    return this.byStream.get(stream) ?? 0;
  }

  /** Count a subscription in, or say why not; `release` must be called once when it ends. */
  admit(stream: string, client: string): Refusal | { release(): void } {
    if (this.total >= this.max.total) {
      return {
        status: 503,
        reason: `This hub holds its maximum of ${this.max.total} subscribers (--max-connections); retry later or use another hub.`,
      };
    }
    if ((this.byClient.get(client) ?? 0) >= this.max.perClient) {
      return {
        status: 429,
        reason: `Your address ${client} holds its maximum of ${this.max.perClient} subscriptions on this hub (--max-subscribers-per-client); close some first.`,
      };
    }
    if ((this.byStream.get(stream) ?? 0) >= this.max.perStream) {
      return {
        status: 429,
        reason: `Stream "${stream}" has its maximum of ${this.max.perStream} subscribers on this hub (--max-subscribers); retry later.`,
      };
    }
    bump(this.byStream, stream, 1);
    bump(this.byClient, client, 1);
    this.total++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        bump(this.byStream, stream, -1);
        bump(this.byClient, client, -1);
        this.total--;
      },
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
