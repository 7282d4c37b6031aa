/** Bolt's logger over the bot's own (src/log.ts). */
import type { Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Log } from '../log.js';

const noop = () => undefined;

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
