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

// Fields are `declare`d and assigned in the constructors: parameter properties or initialised
// class fields would each add code to the browser bundle, for the same own properties.

/** Base class of the errors an `SSEClient` subscription rejects with. */
export class SSEClientError extends Error {
  declare readonly code: ClientErrorCode;
  /** With a `cause`, the message ends with what the cause says. */
  constructor(code: ClientErrorCode, name: string, message: string, cause?: unknown) {
    super(message + causeText(cause), cause === undefined ? undefined : { cause });
    this.code = code;
    this.name = name;
  }
}

/** A status the retry policy does not retry (e.g. 401, 403, 404), or any status without reconnect. */
export class HttpStatusError extends SSEClientError {
  declare readonly status: number;
  declare readonly url: string;
  /** From a `Retry-After` header, when the server sent one. */
  declare readonly retryAfterMs: number | undefined;
  /** The start of the server's reply (up to 1 KiB of a text body), its reason as it gave it. */
  declare readonly body: string;
  constructor(status: number, url: string, retryAfterMs?: number, body = '') {
    super(
      'HTTP_STATUS',
      'HttpStatusError',
      `HTTP ${status} from ${url}: ${statusAdvice(status)}${body ? `. The server said: ${JSON.stringify(body)}` : ''}`,
    );
    this.status = status;
    this.url = url;
    this.retryAfterMs = retryAfterMs;
    this.body = body;
  }
}

/** What a person can do about a status, by its class: each says only what is true of it. */
function statusAdvice(status: number): string {
  if (status === 401 || status === 403) return 'check the credentials (headers)';
  if (status === 404 || status === 410) return 'check the URL and the stream name';
  if (status === 405) return 'check the method';
  if (status === 408) return 'timed out: retry';
  if (status === 429) return 'rate limited: retry later';
  if (status >= 500) return 'failed on the server side: see its logs';
  return 'check the URL, method, headers and body';
}

/** HTTP 204: the server's way of saying "stop reconnecting". */
export class NoContentError extends SSEClientError {
  declare readonly url: string;
  constructor(url: string) {
    super(
      'NO_CONTENT',
      'NoContentError',
      `HTTP 204 from ${url}: the server says stop; subscribe later`,
    );
    this.url = url;
  }
}

export class BadContentTypeError extends SSEClientError {
  declare readonly contentType: string;
  declare readonly url: string;
  constructor(contentType: string, url: string) {
    super(
      'BAD_CONTENT_TYPE',
      'BadContentTypeError',
      `Content-Type "${contentType}" from ${url}: is it the event-stream URL?`,
    );
    this.contentType = contentType;
    this.url = url;
  }
}

export class ValidatorRefusedError extends SSEClientError {
  constructor(cause: unknown) {
    super('VALIDATOR_REFUSED', 'ValidatorRefusedError', 'Refused by responseValidator', cause);
  }
}

/** More consecutive failures than `maxRetries`; `cause` is the last one. */
export class MaxRetriesError extends SSEClientError {
  declare readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(
      'MAX_RETRIES',
      'MaxRetriesError',
      `${attempts} failed attempts in a row (reconnect.maxRetries); is the server up? Last error`,
      cause,
    );
    this.attempts = attempts;
  }
}

/** An event grew past `maxEventSize` (the message is the parser's). */
export class EventSizeExceededError extends SSEClientError {
  declare readonly limit: number;
  constructor(limit: number, message: string) {
    super('EVENT_TOO_LARGE', 'EventSizeExceededError', message);
    this.limit = limit;
  }
}

/** With `reconnect: false`: the connection failed or broke (the cause says how). */
export class ConnectionLostError extends SSEClientError {
  constructor(cause: unknown) {
    super(
      'CONNECTION_LOST',
      'ConnectionLostError',
      'Connection lost (reconnect is off: subscribe again)',
      cause,
    );
  }
}

/** The `headers` function threw. */
export class HeadersFailedError extends SSEClientError {
  constructor(cause: unknown) {
    super('HEADERS_FAILED', 'HeadersFailedError', 'The headers function threw', cause);
  }
}

/** With `encodingBase64`, an event's data was not valid base64. */
export class BadBase64Error extends SSEClientError {
  declare readonly data: string;
  constructor(data: string) {
    super('BAD_BASE64', 'BadBase64Error', 'Event data is not base64: turn encodingBase64 off?');
    this.data = data;
  }
}

/** What `cause` says (and its own cause, one level down) after ': ', or '' without a cause. */
function causeText(cause: unknown): string {
  if (cause === undefined) return '';
  if (!(cause instanceof Error)) return `: ${String(cause)}`;
  return `: ${cause.message}${cause.cause instanceof Error ? `: ${cause.cause.message}` : ''}`;
}
