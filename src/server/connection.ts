/**
 * One subscriber's response, as the transport sees it. The stream logic writes through this and
 * never touches a socket, so every runtime (node:http, http2, Fetch) is one small adapter.
 */
export interface Connection {
  /** Queue bytes for the client; never blocks. */
  write(chunk: Uint8Array): void;
  /** Bytes written but not yet taken by the client (the transport's and the socket's buffers). */
  readonly queuedBytes: number;
  /** End the response cleanly after what is queued. */
  end(): void;
  /** Cut the connection now, dropping what is queued. */
  destroy(): void;
}
