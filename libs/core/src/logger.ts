import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that may carry credentials anywhere in a log record. pino replaces their values with
 * "[redacted]" before the record is serialized, so a secret never reaches a log sink.
 */
export const REDACTED_PATHS: readonly string[] = [
  'token',
  'password',
  'secret',
  'authorization',
  'authData',
  '*.token',
  '*.password',
  '*.secret',
  '*.authorization',
  '*.authData',
  '*.*.token',
  '*.*.password',
  '*.*.authorization',
  'headers.authorization',
];

export interface LoggerConfig {
  /** Service or component name, written as `name` in every record. */
  name: string;
  /** pino level; defaults to $LOG_LEVEL or "info". */
  level?: string;
  /** Where records go; defaults to stderr so stdout stays free for a command's results. */
  destination?: pino.DestinationStream;
}

/** A pino JSON logger with secrets redacted. URLs are logged through `safeUrl`, never raw. */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return pino(options, config.destination ?? pino.destination({ fd: 2, sync: true }));
}

/** A URL with any user-info and token-like query parameters removed, safe to log. */
export function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    for (const key of [...url.searchParams.keys()]) {
      if (/token|secret|password|key|auth/i.test(key)) url.searchParams.set(key, 'redacted');
    }
    return url.toString();
  } catch {
    return '[unparseable url]';
  }
}
