/** Base class of every error `RedisBroker` throws; `code` is stable, the message says what to do. */
export class RedisBrokerError extends Error {
  constructor(
    readonly code: 'BROKER_UNAVAILABLE' | 'BROKER_CLOSED' | 'BROKER_CLIENT_CLOSED' | 'BROKER_REPLY',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RedisBrokerError';
  }
}

/**
 * Redis cannot be reached now. `published` says whether the event may still have gone out:
 * `false` when the call never reached Redis, `'unknown'` when Redis did not answer in time.
 */
export class BrokerUnavailableError extends RedisBrokerError {
  declare readonly code: 'BROKER_UNAVAILABLE';
  readonly published: false | 'unknown';
  constructor(
    readonly stream: string,
    detail: string,
    options?: { cause?: unknown; published?: false | 'unknown' },
  ) {
    const published = options?.published ?? false;
    super(
      'BROKER_UNAVAILABLE',
      `Redis is unreachable (${detail}), so ${stream === '' ? 'the request' : `stream "${stream}"`} could not be served. ` +
        (published === false
          ? 'Nothing was written: retry once Redis is back'
          : 'A publish may or may not have been written: check before retrying') +
        ', and check the url, the network and the Redis logs.',
      options,
    );
    this.name = 'BrokerUnavailableError';
    this.published = published;
  }
}

/** The broker was closed with `close()` and takes no more calls. */
export class BrokerClosedError extends RedisBrokerError {
  declare readonly code: 'BROKER_CLOSED';
  constructor(readonly stream: string) {
    super(
      'BROKER_CLOSED',
      `RedisBroker is closed; stream "${stream}" cannot be used. Create a new broker.`,
    );
    this.name = 'BrokerClosedError';
  }
}

/** The node-redis client passed to the broker was closed by its owner while the broker uses it. */
export class BrokerClientClosedError extends RedisBrokerError {
  declare readonly code: 'BROKER_CLIENT_CLOSED';
  constructor(readonly stream: string) {
    super(
      'BROKER_CLIENT_CLOSED',
      `The Redis client passed to RedisBroker as \`client\` has been closed, so ${stream === '' ? 'the request' : `stream "${stream}"`} cannot be served. ` +
        'Keep that client open while the broker uses it (close the broker first), or give the broker a `url` and let it own its connections.',
    );
    this.name = 'BrokerClientClosedError';
  }
}

/** Redis answered something the broker does not understand (wrong server, or keys changed by hand). */
export class BrokerReplyError extends RedisBrokerError {
  declare readonly code: 'BROKER_REPLY';
  constructor(
    readonly stream: string,
    detail: string,
  ) {
    super(
      'BROKER_REPLY',
      `Unexpected reply from Redis for stream "${stream}": ${detail}. ` +
        "Check that nothing else writes this broker's keys (change keyPrefix if another app uses them).",
    );
    this.name = 'BrokerReplyError';
  }
}
