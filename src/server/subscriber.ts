import type { BrokerEvent } from '../broker/types.js';
import type { Connection } from './connection.js';
import type { SubscriberInfo } from './types.js';

/** A client subscribed to one stream. */
export class Subscriber {
  /** 'replaying' while history is read: live events wait in `backlog`. */
  state: 'replaying' | 'live' | 'closed' = 'live';
  /** The seq of the newest event this subscriber has been sent; later ones only. */
  lastSeq = -1;
  backlog: BrokerEvent[] = [];
  backlogBytes = 0;

  constructor(
    readonly connection: Connection,
    readonly info: SubscriberInfo,
  ) {}
}
