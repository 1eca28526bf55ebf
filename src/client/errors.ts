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
    name: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
  }
}

/** A status the retry policy does not retry (e.g. 401, 403, 404), or any status without reconnect. */
export class HttpStatusError extends SSEClientError {
  constructor(
    readonly status: number,
    readonly url: string,
    /** From a `Retry-After` header, when the server sent one. */
    readonly retryAfterMs?: number,
    /** The start of the server's reply (up to 1 KiB of a text body), its reason as it gave it. */
    readonly body = '',
  ) {
    super(
      'HTTP_STATUS',
      'HttpStatusError',
      `HTTP ${status} from ${url}: ${statusAdvice(status)}${body ? `. The server said: ${JSON.stringify(body)}` : ''}`,
    );
  }
}

/** What a person can do about a status, by its class: each says only what is true of it. */
function statusAdvice(status: number): string {
  if (status === 401 || status === 403) return 'check the credentials (token, headers option)';
  if (status === 404 || status === 410) return 'check the URL and the stream name';
  if (status === 405) return 'check the method option';
  if (status === 408) return 'the server timed out; try again';
  if (status === 429) return 'rate limited: wait, then try again';
  if (status >= 500) return 'a failure on the server side: check its logs';
  if (status >= 300 && status < 400) return 'a redirect fetch did not follow: use its target URL';
  return 'check the URL, method, headers and body';
}

/** HTTP 204: the server's way of saying "stop reconnecting". */
export class NoContentError extends SSEClientError {
  constructor(readonly url: string) {
    super(
      'NO_CONTENT',
      'NoContentError',
      `HTTP 204 from ${url}: the server says stop; subscribe again later`,
    );
  }
}

export class BadContentTypeError extends SSEClientError {
  constructor(
    readonly contentType: string,
    readonly url: string,
  ) {
    super(
      'BAD_CONTENT_TYPE',
      'BadContentTypeError',
      `Content-Type "${contentType}" from ${url}: is it the event-stream URL?`,
    );
  }
}

export class ValidatorRefusedError extends SSEClientError {
  constructor(cause: unknown) {
    super(
      'VALIDATOR_REFUSED',
      'ValidatorRefusedError',
      `responseValidator refused the response: ${messageOf(cause)}`,
      cause,
    );
  }
}

/** More consecutive failures than `maxRetries`; `cause` is the last one. */
export class MaxRetriesError extends SSEClientError {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'MAX_RETRIES',
      'MaxRetriesError',
      `${attempts} failed attempts in a row (${messageOf(cause)}): is the server up? (reconnect.maxRetries)`,
      cause,
    );
  }
}

/** An event grew past `maxEventSize` (the message is the parser's). */
export class EventSizeExceededError extends SSEClientError {
  constructor(
    readonly limit: number,
    message: string,
  ) {
    super('EVENT_TOO_LARGE', 'EventSizeExceededError', message);
  }
}

/** With `reconnect: false`: the connection failed or broke (the cause says how). */
export class ConnectionLostError extends SSEClientError {
  constructor(cause: unknown) {
    super(
      'CONNECTION_LOST',
      'ConnectionLostError',
      `Connection lost (${messageOf(cause)}); reconnect is off: subscribe again`,
      cause,
    );
  }
}

/** The `headers` function threw. */
export class HeadersFailedError extends SSEClientError {
  constructor(cause: unknown) {
    super(
      'HEADERS_FAILED',
      'HeadersFailedError',
      `The headers function threw: ${messageOf(cause)}`,
      cause,
    );
  }
}

/** With `encodingBase64`, an event's data was not valid base64. */
export class BadBase64Error extends SSEClientError {
  constructor(readonly data: string) {
    super('BAD_BASE64', 'BadBase64Error', 'Event data is not base64: turn encodingBase64 off?');
  }
}

export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error.message + cause;
}
