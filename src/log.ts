/**
 * Structured logs: one JSON object a line (pino), readable text when the output is a terminal. A run's lines
 * carry `runId`, `vm` and `step`. Every string that reaches a line (message, fields, error messages and
 * stacks, bindings) goes through a Redactor first, so a secret registered for the run never appears.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Redactor } from './setup/redactor.js';

export type { Logger } from 'pino';

/**
 * The logging the bot's parts need: pino's call shape (`log.warn({fields}, 'message')`), so a pino logger can
 * be passed straight in. Log lines carry ids and states, never message text from users or secrets.
 */
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

export interface CreateLoggerOptions {
  /** @defaultValue 'info' */
  level?: string;
  /** Human-readable lines instead of JSON. @defaultValue whether `stream` is a TTY */
  pretty?: boolean;
  /** @defaultValue process.stdout */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Secrets of the whole process (Slack tokens, the Redis password); runs add their own in `runLogger`. */
  redactor?: Redactor;
}

export interface RunLogFields {
  runId: string;
  vm: string;
  step?: string;
}

type Redact = (text: string) => string;

/** Where a run logger keeps its run's Redactor; children inherit it through pino's prototype chain. */
const RUN_REDACTOR = Symbol('gitspaces.runRedactor');
const MAX_DEPTH = 8;

/** A copy of `value` fit for a log line: strings redacted, errors flattened, byte buffers never dumped. */
export function sanitize(value: unknown, redact: Redact, depth = 0, parents: object[] = []): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  // A Buffer is how secrets travel in this code base: its bytes never reach a log.
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (parents.includes(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  const inner = [...parents, value];
  if (value instanceof Error) {
    const { raw: _raw, ...fields } = pino.stdSerializers.err(value) as unknown as Record<string, unknown>;
    return sanitize(fields, redact, depth + 1, inner);
  }
  if (Array.isArray(value)) return value.map((v) => sanitize(v, redact, depth + 1, inner));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = sanitize(field, redact, depth + 1, inner);
  return out;
}

function redactorOf(logger: Logger, process: Redactor | undefined): Redact {
  const run = (logger as unknown as Record<symbol, Redactor | undefined>)[RUN_REDACTOR];
  return (text) => {
    const once = process ? process.redact(text) : text;
    return run ? run.redact(once) : once;
  };
}

/** pino's call shapes: `(msg, ...args)`, `(obj, msg?, ...args)`, `(err, msg?, ...args)`. */
function sanitizeArgs(args: unknown[], redact: Redact): unknown[] {
  const [first, ...rest] = args;
  if (first instanceof Error) {
    const err = sanitize(first, redact) as { message?: string };
    return [{ err }, ...(rest.length > 0 ? rest : [err.message])].map((a, i) =>
      i === 0 ? a : sanitize(a, redact),
    );
  }
  return args.map((a) => sanitize(a, redact));
}

/** Writes each JSON line as `HH:MM:SS.mmm LEVEL [run vm step] message key=value`, error stacks indented below. */
export function prettyStream(target: NodeJS.WritableStream): DestinationStream {
  return { write: (line: string) => void target.write(prettyLine(line)) };
}

export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, pid: _pid, hostname: _host, runId, vm, step, err, ...fields } = entry;
  const clock = typeof time === 'string' ? time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const where = [runId, vm, step].filter((v) => v !== undefined).join(' ');
  const pairs = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`,
  );
  const head = [
    clock,
    String(level ?? '')
      .toUpperCase()
      .padEnd(5),
    where ? `[${where}]` : '',
    String(msg ?? ''),
    ...pairs,
  ]
    .filter((part) => part !== '')
    .join(' ');
  const stack = (err as { stack?: unknown } | undefined)?.stack;
  const tail = typeof stack === 'string' ? `\n${stack.replace(/^/gm, '    ')}` : '';
  return `${head}${tail}\n`;
}

/** The process logger. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stdout;
  const pretty = options.pretty ?? stream.isTTY === true;
  const processRedactor = options.redactor;
  const destination: DestinationStream = pretty
    ? prettyStream(stream)
    : { write: (line: string) => void stream.write(line) };
  return pino(
    {
      level: options.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Errors were flattened (and redacted) by the hook below; pino must not rebuild them from the raw error.
      serializers: { err: (value: unknown) => value },
      hooks: {
        logMethod(args, method) {
          const redact = redactorOf(this, processRedactor);
          method.apply(this, sanitizeArgs(args, redact) as Parameters<typeof method>);
        },
        // The last net: bindings given to `child()` anywhere, with the process-wide secrets.
        streamWrite: (line) => (processRedactor ? processRedactor.redact(line) : line),
      },
    },
    destination,
  );
}

/** A logger for one run: every line carries `runId`, `vm` (and `step`), and hides the run's secrets. */
export function runLogger(parent: Logger, fields: RunLogFields, redactor?: Redactor): Logger {
  const inherited = (parent as unknown as Record<symbol, Redactor | undefined>)[RUN_REDACTOR];
  const own = redactor ?? inherited;
  const redact: Redact = (text) => (own ? own.redact(text) : text);
  const child = parent.child(sanitize(fields, redact) as Record<string, unknown>);
  if (own) Object.defineProperty(child, RUN_REDACTOR, { value: own, enumerable: false });
  return child;
}

/** The run logger narrowed to one step; create it from the run logger (not from another step's). */
export function stepLogger(run: Logger, step: string): Logger {
  return run.child({ step });
}
