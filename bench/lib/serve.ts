/** The child side of `children.ts`: answer the parent's requests over IPC. */

export interface Request {
  op: string;
  [key: string]: unknown;
}

/**
 * The child side: answer each request with `handle`'s result. The child exits when asked, when
 * its parent goes away, or after `maxMs` whatever happens.
 */
export function serve(handle: (msg: Request) => unknown, maxMs = 15 * 60_000): void {
  const send = (msg: unknown) => process.send?.(msg);
  process.on('message', async (msg: Request & { id: number }) => {
    if (msg.op === 'exit') process.exit(0);
    try {
      const result = (await handle(msg)) ?? {};
      send({ ...(result as object), id: msg.id });
    } catch (err) {
      send({ id: msg.id, error: err instanceof Error ? err.stack : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(2), maxMs).unref();
}
