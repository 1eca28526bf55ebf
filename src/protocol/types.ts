/** One event as a client receives it. */
export interface SSEEvent {
  /** The stream's last event id after this event ('' if none was ever set). */
  id: string;
  /** The event type; 'message' when the wire had none. */
  event: string;
  /** The data lines, joined with '\n'. */
  data: string;
  /** The reconnection time in ms, if this event's block carried a valid `retry` field. */
  retry?: number;
}

/** What a publisher sends: bare data, or an event with fields. */
export type PublishEvent =
  | string
  | Uint8Array
  | {
      data: string | Uint8Array;
      id?: string;
      event?: string;
      retry?: number;
      comment?: string;
    };

export interface EncodeOptions {
  /** Send `data` as base64 of its UTF-8 bytes (r3labs' EncodeBase64). */
  base64?: boolean;
  /** Accepted for r3labs compatibility; data is always split on line ends. */
  splitData?: boolean;
}

export interface ParserHandlers {
  onEvent(event: SSEEvent): void;
  onRetry?(ms: number): void;
  onComment?(text: string): void;
}

export interface ParserOptions {
  /** Most UTF-8 bytes held for one event (its lines so far plus an unfinished line). */
  maxEventSize?: number;
}
