/**
 * The logging the Slack side needs: pino's call shape (`log.warn({fields}, 'message')`), so a pino logger
 * can be passed straight in. Log lines carry ids and states, never message text from users or secrets.
 */
import type { Logger as BoltLogger, LogLevel } from '@slack/bolt';

export interface Log {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const noop = () => undefined;
export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop };

/** Bolt logs free-form arguments; this keeps them as one `msg` field of a structured line. */
export function boltLogger(log: Log): BoltLogger {
  let level = 'info' as LogLevel;
  const line =
    (fn: (fields: object, message?: string) => void) =>
    (...args: unknown[]) =>
      fn(
        { source: 'bolt' },
        args
          .map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))
          .join(' '),
      );
  return {
    debug: line(log.debug.bind(log)),
    info: line(log.info.bind(log)),
    warn: line(log.warn.bind(log)),
    error: line(log.error.bind(log)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: noop,
  };
}
