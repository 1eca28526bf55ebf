import type { BrokerEvent } from '../broker/types.js';
import type { Connection } from './connection.js';
import type { SubscriberInfo } from './types.js';

/** A client subscribed to one stream. */
export class Subscriber {
  /** 'replaying' while history is read: live events wait in `backlog`. */
  state: 'replaying' | 'live' | 'closed' = 'live';
  /** The seq of the newest event this subscriber has been sent; later ones only. */
  lastSeq = -1;
  /** Made only for a replay, so an idle subscriber does not carry an empty array. */
  backlog: BrokerEvent[] | undefined;
  backlogBytes = 0;
  /**
   * The size of the replay just written. A replay may be larger than `maxQueuedBytes` (history
   * is bounded on its own), so until it has drained it does not count as falling behind.
   */
  replayBytes = 0;

  constructor(
    readonly connection: Connection,
    readonly info: SubscriberInfo,
  ) {}
}
