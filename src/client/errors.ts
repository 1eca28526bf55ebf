/** Every reason a subscription gives up, as a stable `code` a program can switch on. */
export type ClientErrorCode =
  | 'HTTP_STATUS'
  | 'NO_CONTENT'
  | 'BAD_CONTENT_TYPE'
  | 'VALIDATOR_REFUSED'
  | 'MAX_RETRIES'
  | 'EVENT_TOO_LARGE'
  | 'CONNECTION_LOST'
  | 'HEADERS_FAILED'
  | 'BAD_BASE64';

/** Base class of the errors an `SSEClient` subscription rejects with. */
export class SSEClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SSEClientError';
  }
}

/** The server answered with a status the retry policy does not retry (e.g. 401, 403, 404). */
export class HttpStatusError extends SSEClientError {
  override name = 'HttpStatusError';
  constructor(
    readonly status: number,
    readonly url: string,
    /** From a `Retry-After` header, when the server sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(
      'HTTP_STATUS',
      `${url} answered HTTP ${status}. Check the URL, the stream name and any credentials the ` +
        'server needs (5xx, 408 and 429 are retried; other statuses end the subscription).',
    );
  }
}

/** HTTP 204: the server's way of saying "stop reconnecting". */
export class NoContentError extends SSEClientError {
  override name = 'NoContentError';
  constructor(readonly url: string) {
    super(
      'NO_CONTENT',
      `${url} answered 204 No Content, which tells a client to stop reconnecting. Subscribe ` +
        'again only when the server has a stream for you.',
    );
  }
}

export class BadContentTypeError extends SSEClientError {
  override name = 'BadContentTypeError';
  constructor(
    readonly contentType: string,
    readonly url: string,
  ) {
    super(
      'BAD_CONTENT_TYPE',
      `${url} answered with Content-Type "${contentType}", not text/event-stream. Check that the ` +
        'URL is the event-stream endpoint and not a page or an API route.',
    );
  }
}

export class ValidatorRefusedError extends SSEClientError {
  override name = 'ValidatorRefusedError';
  constructor(cause: unknown) {
    super(
      'VALIDATOR_REFUSED',
      `responseValidator refused the response: ${messageOf(cause)}. The subscription stopped; ` +
        'the cause is attached.',
      { cause },
    );
  }
}

/** `maxRetries` consecutive failures; `cause` is the last one. */
export class MaxRetriesError extends SSEClientError {
  override name = 'MaxRetriesError';
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'MAX_RETRIES',
      `Gave up after ${attempts} consecutive failed attempts (last: ${messageOf(cause)}). Check ` +
        'that the server is up, or raise reconnect.maxRetries.',
      { cause },
    );
  }
}

export class EventSizeExceededError extends SSEClientError {
  override name = 'EventSizeExceededError';
  constructor(readonly limit: number) {
    super(
      'EVENT_TOO_LARGE',
      `An event grew past maxEventSize (${limit} bytes) before it ended. Raise the ` +
        'maxEventSize option if such events are expected, or check that the server ends each ' +
        'event with a blank line.',
    );
  }
}

/** With `reconnect: false`: the connection failed or broke (the cause says how). */
export class ConnectionLostError extends SSEClientError {
  override name = 'ConnectionLostError';
  constructor(cause: unknown) {
    super(
      'CONNECTION_LOST',
      `The connection failed or broke (${messageOf(cause)}) and reconnect is off. Subscribe ` +
        'again, or turn reconnect on.',
      { cause },
    );
  }
}

/** The `headers` function threw. */
export class HeadersFailedError extends SSEClientError {
  override name = 'HeadersFailedError';
  constructor(cause: unknown) {
    super(
      'HEADERS_FAILED',
      `The headers function threw: ${messageOf(cause)}. It runs before every connect; make ` +
        'it return headers (or retry on its own) instead of throwing.',
      { cause },
    );
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** With `encodingBase64`, an event's data was not valid base64. */
export class BadBase64Error extends SSEClientError {
  override name = 'BadBase64Error';
  constructor(readonly data: string) {
    super(
      'BAD_BASE64',
      `encodingBase64 is on but an event's data is not base64 (${JSON.stringify(data.slice(0, 40))}). ` +
        'Turn encodingBase64 off unless the server encodes every event.',
    );
  }
}
