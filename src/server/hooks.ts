/**
 * Call a user's hook. What it throws, or a promise it returns rejects with, is reported on the
 * console: a hook is told about a subscription, and its failure must not end the subscription,
 * nor take the process down as an uncaught error would.
 */
export function callHook<A extends unknown[]>(
  name: string,
  hook: ((...args: A) => unknown) | undefined,
  ...args: A
): void {
  if (!hook) return;
  try {
    const result = hook(...args);
    if (result instanceof Promise) result.catch((err: unknown) => report(name, err));
  } catch (err) {
    report(name, err);
  }
}

function report(name: string, err: unknown): void {
  console.error(`ssekit: the ${name} hook failed; the server carried on. Its error:`, err);
}

/**
 * A subscribe request failed before its stream opened (a throwing `authorize`, a broker that could
 * not read history) and was answered 500: say why, or the operator sees only the status.
 */
export function reportSubscribeFailure(err: unknown): void {
  console.error('ssekit: a subscribe request failed and was answered 500. Its error:', err);
}
