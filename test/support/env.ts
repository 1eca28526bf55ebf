import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** In CI, a missing Redis or Chromium is a failure; elsewhere the tests skip, saying so. */
export const inCI = process.env.CI === 'true';

function which(cmd: string): string | undefined {
  try {
    return execFileSync('which', [cmd], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const chromiumPath =
  process.env.CHROMIUM_PATH ??
  which('chromium') ??
  (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
export const redisServerPath = which('redis-server');
export const nginxPath =
  which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);

/**
 * Whether a suite that needs `what` should run. Outside CI a missing tool skips with a message;
 * in CI the suite runs and fails loudly.
 */
export function requireTool(what: string, present: boolean): boolean {
  if (present) return true;
  if (inCI) return true;
  console.warn(`[skip] ${what} is not installed: skipping its tests (they run in CI)`);
  return false;
}

/** The flags every test starts Debian's Chromium with. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
