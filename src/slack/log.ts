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
  /** pino's: whether a line of `level` would be written at all. */
  isLevelEnabled?(level: string): boolean;
}

const noop = () => undefined;
export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * Bolt logs free-form arguments; this keeps them as one `msg` field of a structured line. Bolt and its Web
 * API client log several debug lines per request: they are not even formatted unless debug is on.
 */
export function boltLogger(log: Log): BoltLogger {
  let level = 'info' as LogLevel;
  const line =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      if (log.isLevelEnabled?.(name) === false) return;
      log[name](
        { source: 'bolt' },
        args
          .map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))
          .join(' '),
      );
    };
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: noop,
  };
}
