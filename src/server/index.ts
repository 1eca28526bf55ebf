export { MemoryBroker } from '../broker/memory.js';
export type {
  Broker,
  BrokerEvent,
  BrokerListener,
  BrokerMessage,
  HistoryLimits,
  HistoryResult,
  ResetReason,
} from '../broker/types.js';
export type { PublishEvent, SSEEvent } from '../protocol/types.js';
export type { Connection } from './connection.js';
export {
  InvalidOptionError,
  InvalidStreamNameError,
  ServerClosedError,
  StreamNotFoundError,
} from './errors.js';
export { SSEServer } from './sse-server.js';
export { Stream } from './stream.js';
export type {
  CorsOptions,
  HistoryOptions,
  ServerOptions,
  StreamOptions,
  SubscribeRequest,
  SubscriberInfo,
  UnsubscribeInfo,
  UnsubscribeReason,
} from './types.js';
