/**
 * Structured logs with pino: JSON lines by default, human-readable with `--log-format pretty`. Secrets are
 * redacted by key name wherever they appear, so a config or key object logged by mistake leaks nothing.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const SECRET_KEYS = ['seed', 'privateKey', 'secret', 'password', 'authorization', 'token'];
/** Secret keys at the top level and up to two levels deep. */
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  name?: string;
  /** Where JSON lines go; defaults to stdout. Tests pass a memory stream. */
  destination?: NodeJS.WritableStream;
}

export type { Logger };

export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  };
  if (opts.format === 'pretty') {
    return pino(
      base,
      pretty({ sync: true, colorize: false, destination: opts.destination ?? process.stdout }),
    );
  }
  return pino(base, opts.destination ?? process.stdout);
}
