/** Thrown by `EventParser.feed` when one event grows past `maxEventSize`. */
export class EventTooLargeError extends RangeError {
  // Declared and assigned in the constructor: field declarations would add code to the browser
  // bundle, for the same own properties in the same order.
  declare readonly limit: number;
  declare readonly code: 'EVENT_TOO_LARGE';
  constructor(limit: number) {
    super(
      `An event passed maxEventSize (${limit} bytes): raise the maxEventSize option, or check ` +
        'that the server ends each event with a blank line',
    );
    this.limit = limit;
    this.code = 'EVENT_TOO_LARGE';
    this.name = 'EventTooLargeError';
  }
}

/** Thrown by `encodeEvent` for a value that would break the wire format. */
export class InvalidEventError extends TypeError {
  readonly code = 'INVALID_EVENT' as const;
  constructor(
    /** The field at fault, or '' when the event as a whole is. */
    readonly field: string,
    problem: string,
  ) {
    super(
      field === '' ? `Invalid event: ${problem}` : `Invalid event field "${field}": ${problem}`,
    );
    this.name = 'InvalidEventError';
  }
}
