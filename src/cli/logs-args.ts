import { GitspacesError } from '../errors.js';
import { LOG_LINES, type LogsContainer, parseLogLines } from '../setup/container-logs.js';
import { commandUsage, readArgs, TARGET_OPTIONS_SPEC, type TargetArgs, targetFrom } from './args.js';

export interface LogsArgs {
  target: TargetArgs;
  container: LogsContainer;
  lines: number;
}

function usage(message: string): GitspacesError {
  return new GitspacesError('USAGE', `${message}\n\n${commandUsage('logs')}`);
}

const LOGS_OPTIONS_SPEC = { ...TARGET_OPTIONS_SPEC, lines: { type: 'string' } } as const;

/** `logs <vm>|--host … runner|delegate [--lines <n>]`: the container word is the last word. */
export function parseLogsArgs(argv: readonly string[]): LogsArgs {
  const { values, positionals } = readArgs(argv, LOGS_OPTIONS_SPEC, usage);
  const word = positionals.at(-1)?.toLowerCase();
  if (word !== 'runner' && word !== 'delegate')
    throw usage(
      `Which container? End with runner or delegate, e.g. gitspaces-bot logs my-vm delegate --lines 200${word === undefined ? '' : ` (got ${word})`}.`,
    );
  const { lines: linesText, delegate, runner, yes, ...target } = values;
  if (delegate !== undefined || runner !== undefined || yes !== undefined)
    throw usage('--delegate, --runner and --yes do not apply to logs.');
  const lines = linesText === undefined ? LOG_LINES.default : parseLogLines(linesText);
  if (lines === undefined)
    throw usage(
      `--lines ${linesText} is not a line count: give a whole number from 1 to ${LOG_LINES.max} (default ${LOG_LINES.default}).`,
    );
  return { target: targetFrom(target, positionals.slice(0, -1)), container: word, lines };
}
