/** Let a body (or its reader) go without waiting; a failure to cancel changes nothing. */
export function cancelQuietly(body: { cancel(): Promise<void> } | null | undefined): void {
  body?.cancel().catch(() => {});
}

/**
 * Hand the body's chunks to `feed` until it ends or `signal` aborts; throws on a network error.
 * After each chunk, `pause` may return a promise to wait for before reading on (backpressure).
 */
export async function pump(
  body: ReadableStream<Uint8Array>,
  feed: (chunk: Uint8Array) => void,
  signal: AbortSignal,
  pause?: () => Promise<void> | undefined,
): Promise<void> {
  const reader = body.getReader();
  const onAbort = () => cancelQuietly(reader);
  signal.addEventListener('abort', onAbort);
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      feed(value);
      const wait = pause?.();
      if (wait) await wait;
      if (signal.aborted) return;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!finished) cancelQuietly(reader);
  }
}
