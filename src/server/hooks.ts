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

/** How often, at most, a handler reports subscribe requests answered 500. */
const FAILURE_REPORT_INTERVAL_MS = 10_000;

/**
 * For one handler: report a subscribe request answered 500 (a throwing `authorize`), or the
 * operator sees only the status. At most one report per interval, saying how many went unreported
 * since: an `authorize` that throws on every request must not flood the log.
 */
export function subscribeFailureReporter(): (err: unknown) => void {
  let last = -Infinity;
  let unreported = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < FAILURE_REPORT_INTERVAL_MS) {
      unreported++;
      return;
    }
    const also = unreported > 0 ? ` (and ${unreported} more since the last report)` : '';
    last = now;
    unreported = 0;
    console.error(
      `ssekit: a subscribe request failed and was answered 500${also}. Its error:`,
      err,
    );
  };
}
