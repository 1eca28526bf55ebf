export { encodeEvent } from './encode.js';
export { EventTooLargeError, InvalidEventError } from './errors.js';
export { EventParser } from './parser.js';
export type {
  EncodeOptions,
  ParserHandlers,
  ParserOptions,
  PublishEvent,
  SSEEvent,
} from './types.js';
