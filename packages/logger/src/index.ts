import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths never written to logs. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-admin-token"]',
  'req.headers.cookie',
  'req.query.token',
  'token',
  '*.token',
];

/** pino options shared by every service: level from config, secrets redacted, pretty only on a TTY. */
export function loggerOptions(opts: { level: string; name: string }): LoggerOptions {
  const pretty = process.stdout.isTTY === true;
  return {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } }
      : {}),
  };
}

export function createLogger(opts: { level: string; name: string }): Logger {
  return pino(loggerOptions(opts));
}
