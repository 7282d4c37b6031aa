import { GitspacesError } from '../errors.js';
import { LOG_LINES, type LogsContainer, parseLogLines } from '../setup/container-logs.js';
import { commandUsage, parseTargetArgs, type TargetArgs, VALUE_FLAGS } from './args.js';

export interface LogsArgs {
  target: TargetArgs;
  container: LogsContainer;
  lines: number;
}

function usage(message: string): GitspacesError {
  return new GitspacesError('USAGE', `${message}\n\n${commandUsage('logs')}`);
}

/** `--lines <n>` or `--lines=<n>`, taken out of argv. */
function takeLines(argv: string[]): { lines: number; rest: string[] } {
  const rest: string[] = [];
  let lines: number = LOG_LINES.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg !== '--lines' && !arg.startsWith('--lines=')) {
      rest.push(arg);
      continue;
    }
    const value = arg === '--lines' ? argv[++i] : arg.slice('--lines='.length);
    const parsed = value === undefined ? undefined : parseLogLines(value);
    if (parsed === undefined)
      throw usage(
        `--lines ${value ?? ''} is not a line count: give a whole number from 1 to ${LOG_LINES.max} (default ${LOG_LINES.default}).`,
      );
    lines = parsed;
  }
  return { lines, rest };
}

/** `logs <vm>|--host … runner|delegate [--lines <n>]`: the container word is the last argument that is no option. */
export function parseLogsArgs(argv: string[]): LogsArgs {
  const { lines, rest } = takeLines(argv);
  let last = -1;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (VALUE_FLAGS.has(arg)) i++;
    else if (!arg.startsWith('-')) last = i;
  }
  const word = last < 0 ? undefined : (rest[last] as string).toLowerCase();
  if (word !== 'runner' && word !== 'delegate')
    throw usage(
      `Which container? End with runner or delegate, e.g. gitspaces-bot logs my-vm delegate --lines 200${word === undefined ? '' : ` (got ${word})`}.`,
    );
  const target = parseTargetArgs(rest.filter((_, i) => i !== last));
  if (target.delegate !== undefined || target.runner !== undefined || target.yes)
    throw usage('--delegate, --runner and --yes do not apply to logs.');
  return { target, container: word, lines };
}
