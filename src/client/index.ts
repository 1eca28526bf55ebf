export {
  BadBase64Error,
  BadContentTypeError,
  type ClientErrorCode,
  ConnectionLostError,
  EventSizeExceededError,
  HeadersFailedError,
  HttpStatusError,
  MaxRetriesError,
  NoContentError,
  SSEClientError,
  ValidatorRefusedError,
} from './errors.js';
export { EventSource, type EventSourceEventMap, type EventSourceInit } from './event-source.js';
export { SSEClient } from './sse-client.js';
export type {
  ClientOptions,
  HeadersOption,
  ReconnectOptions,
  ResendableBody,
  SSEEvent,
  SubscribeOptions,
} from './types.js';
