import { createRequire } from 'node:module';
import { MAIN_HELP, parseServe, serveHelp, UsageError } from './config.js';
import { createLogger } from './log.js';

/** How long shutdown may take before the process exits anyway (the contract says 5 s). */
const SHUTDOWN_LIMIT_MS = 4000;

async function serve(argv: string[]): Promise<number | undefined> {
  const config = parseServe(argv);
  if (config === 'help') {
    process.stdout.write(serveHelp());
    return 0;
  }
  const log = createLogger(config.logFormat, config.logLevel);
  // Signals are handled from the start: a SIGTERM while the hub waits for Redis still exits 0.
  let hub: Awaited<ReturnType<typeof import('./serve.js').startHub>> | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: ending every stream', { signal });
    if (!hub) process.exit(0); // nothing started yet
    const force = setTimeout(() => {
      log.warn('shutdown took too long; exiting anyway');
      process.exit(0);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    hub.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: (err as Error).message });
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Loaded on demand: the client commands start without the server, Redis and metrics code.
  const { redactUrl, startHub } = await import('./serve.js');
  hub = await startHub(config, log);
  const auth =
    config.jwtSecret || config.jwtPublicKey ? 'jwt' : config.publishToken ? 'token' : 'none';
  log.always(`hub listening on ${hub.url} — open ${hub.url}/ to watch a stream`, {
    url: hub.url,
    broker: config.redisUrl ? `redis ${redactUrl(config.redisUrl)}` : 'memory',
    auth,
  });
  const bearer = config.publishToken ? " -H 'Authorization: Bearer <token>'" : '';
  log.info(`publish: curl${bearer} -d 'hello' '${hub.url}/publish?stream=demo'`);
  log.info(`subscribe: curl -N '${hub.url}/events?stream=demo'`);
  return undefined; // keeps running
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'subscribe':
      return (await import('./subscribe.js')).subscribeCommand(rest);
    case 'publish':
      return (await import('./publish.js')).publishCommand(rest);
    case '--version':
    case '-v': {
      const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    case undefined:
      // Asked for nothing: the usage goes where errors go, with the exit code of wrong usage.
      process.stderr.write(MAIN_HELP);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(MAIN_HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // Point at the help that lists the options of the command that was run.
      const command = ['serve', 'subscribe', 'publish'].includes(argv[0]!) ? `${argv[0]} ` : '';
      process.stderr.write(`ssekit: ${err.message}\nRun "ssekit ${command}--help" for usage.\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`ssekit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
