/** `publish` named a stream that does not exist (and `autoStream` is off). */
export class StreamNotFoundError extends Error {
  readonly code = 'STREAM_NOT_FOUND' as const;
  constructor(readonly stream: string) {
    super(
      `Stream "${stream}" does not exist. Create it with server.createStream(${JSON.stringify(stream)}) ` +
        'or pass { autoStream: true } to SSEServer.',
    );
    this.name = 'StreamNotFoundError';
  }
}

/** The server is closing or closed and takes no more events. */
export class ServerClosedError extends Error {
  readonly code = 'SERVER_CLOSED' as const;
  constructor() {
    super(
      'The SSEServer is closed (close() was called); it accepts no more events or subscribers.',
    );
    this.name = 'ServerClosedError';
  }
}

/** A stream name that cannot be used. */
export class InvalidStreamNameError extends TypeError {
  readonly code = 'INVALID_STREAM_NAME' as const;
  constructor(
    readonly stream: string,
    problem: string,
  ) {
    super(`Invalid stream name ${JSON.stringify(stream.slice(0, 80))}: ${problem}`);
    this.name = 'InvalidStreamNameError';
  }
}

/** An option of `SSEServer` or `createStream` whose value cannot work. */
export class InvalidOptionError extends TypeError {
  readonly code = 'INVALID_OPTION' as const;
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`${option} ${problem}`);
    this.name = 'InvalidOptionError';
  }
}
