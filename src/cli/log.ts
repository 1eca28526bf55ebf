import type { LogFormat, LogLevel } from './config.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  /** Logged at info whatever the level: the line that says where the hub listens. */
  always(msg: string, fields?: Fields): void;
  enabled(level: LogLevel): boolean;
}

/**
 * Lines on stderr (stdout stays free for a command's output): `text` for people,
 * `json` (one object per line with time, level, msg and fields) for log collectors.
 */
export function createLogger(
  format: LogFormat,
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const max = RANK[level];
  const log = (lvl: LogLevel, msg: string, fields: Fields = {}, force = false) => {
    if (RANK[lvl] > max && !force) return;
    if (format === 'json') {
      write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`);
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`)
      .join(' ');
    const tag = lvl === 'info' ? '' : `${lvl.toUpperCase()} `;
    write(`ssekit: ${tag}${msg}${rest ? ` ${rest}` : ''}\n`);
  };
  return {
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
    always: (m, f) => log('info', m, f, true),
    enabled: (lvl) => RANK[lvl] <= max,
  };
}
