import { isGitspacesError } from '../../errors.js';
import { LOG_LINES, type LogsContainer, parseLogLines } from '../../setup/container-logs.js';
import { parseVmRef } from '../../setup/vm-ref.js';
import type { Command, VmDefaults } from './command.js';

const EXAMPLE = '`/gitspaces logs gitspaces-runner delegate 200`';

/** A word the person typed, safe inside the usage's inline code. */
const typed = (word: string) => `\`${word.slice(0, 40).replace(/`/g, '')}\``;

const invalid = (problem: string): Command => ({ kind: 'invalid', problem });

/** `logs <vm> runner|delegate [lines]`: each problem says what to type instead. */
export function parseLogs(args: string[], defaults: VmDefaults): Command {
  const [vmArg, containerArg, linesArg, ...extra] = args;
  if (vmArg === undefined || containerArg === undefined || extra.length > 0)
    return invalid(
      `\`/gitspaces logs\` takes a VM, \`runner\` or \`delegate\`, and optionally how many lines (1 to ${LOG_LINES.max}, default ${LOG_LINES.default}), e.g. ${EXAMPLE}.`,
    );
  const container = containerArg.toLowerCase();
  if (container !== 'runner' && container !== 'delegate')
    return invalid(
      `${typed(containerArg)} is not a container: use \`runner\` or \`delegate\`, e.g. ${EXAMPLE}.`,
    );
  const lines = linesArg === undefined ? LOG_LINES.default : parseLogLines(linesArg);
  if (lines === undefined)
    return invalid(
      `${typed(linesArg ?? '')} is not a line count: give a whole number from 1 to ${LOG_LINES.max} (or leave it out for ${LOG_LINES.default}), e.g. ${EXAMPLE}.`,
    );
  try {
    const vm = parseVmRef(vmArg, defaults);
    return { kind: 'logs', vm, container: container as LogsContainer, lines };
  } catch (error) {
    if (!isGitspacesError(error)) throw error;
    return invalid(error.message);
  }
}
