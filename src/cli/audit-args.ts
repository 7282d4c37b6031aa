import { parseDuration } from '../duration.js';
import { GitspacesError } from '../errors.js';
import { isVmName } from '../setup/vm-ref.js';
import { readArgs } from './args.js';

export type AuditFormat = 'table' | 'jsonl';

export interface AuditArgs {
  /** How far back runs are listed, in milliseconds. */
  sinceMs: number;
  vm: string | undefined;
  format: AuditFormat;
}

export const AUDIT_USAGE = `Usage: gitspaces-bot audit [--since <duration>] [--vm <vm>] [--format table|jsonl]

Lists every run the bot recorded in Redis: who asked for it and who decided, what it did (kind, VM, images),
and when each step started and ended, with its result. Needs only REDIS_URL and QUEUE_PREFIX.

  --since <duration>    runs created within this long (default 7d; e.g. 24h, 90m, 30d)
  --vm <vm>             only this VM's runs (its name, as in /gitspaces status)
  --format table|jsonl  table for reading (default); jsonl, one JSON object per run per line, for piping

Runs are kept 30 days, and the newest 1000 of them. Exit codes: 0 listed, 1 Redis does not answer,
2 bad usage.`;

const DEFAULT_SINCE = '7d';

function usage(message: string): GitspacesError {
  return new GitspacesError('USAGE', `${message}\n\n${AUDIT_USAGE}`);
}

function since(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw usage(`--since ${text} is not a duration: give a number and a unit, e.g. --since 7d, 24h or 90m.`);
  return ms;
}

function vm(text: string): string {
  if (!isVmName(text))
    throw usage(
      `--vm ${text} is not a VM name: give the bare name (lowercase letters, digits and hyphens, e.g. --vm gitspaces-1).`,
    );
  return text;
}

function format(text: string): AuditFormat {
  if (text === 'table' || text === 'jsonl') return text;
  throw usage(`--format ${text} is not a format: use --format table or --format jsonl.`);
}

const AUDIT_OPTIONS_SPEC = {
  since: { type: 'string' },
  vm: { type: 'string' },
  format: { type: 'string' },
} as const;

/** `--flag value` or `--flag=value`; anything else is refused with what to type instead. */
export function parseAuditArgs(argv: readonly string[]): AuditArgs {
  const { values, positionals } = readArgs(argv, AUDIT_OPTIONS_SPEC, usage);
  const [word] = positionals;
  if (word !== undefined) throw usage(`Unexpected "${word}": give the VM as --vm ${word}.`);
  return {
    sinceMs: since(values.since ?? DEFAULT_SINCE),
    vm: values.vm === undefined ? undefined : vm(values.vm),
    format: values.format === undefined ? 'table' : format(values.format),
  };
}
