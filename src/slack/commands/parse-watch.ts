import { parseDuration } from '../../duration.js';
import type { VmRef } from '../../setup/ports.js';
import type { Command, VmDefaults } from './command.js';

/** Muting longer than this is forgetting: `/gitspaces forget` says so plainly. */
export const MUTE_MAX_MS = 30 * 24 * 3600_000;

const invalid = (problem: string): Command => ({ kind: 'invalid', problem });

/** `mute <vm> <duration>`: e.g. `2h`, `1d`, at most 30 days. */
export function parseMute(
  args: string[],
  defaults: VmDefaults,
  oneVm: (verb: string, args: string[], defaults: VmDefaults) => VmRef | string,
): Command {
  const [vmArg, durationArg, ...extra] = args;
  const example = '`/gitspaces mute gitspaces-runner 2h`';
  if (vmArg === undefined || durationArg === undefined || extra.length > 0)
    return invalid(`\`/gitspaces mute\` takes a VM and how long, e.g. ${example} (at most 30d).`);
  const ms = parseDuration(durationArg);
  if (ms === undefined || ms <= 0 || ms > MUTE_MAX_MS)
    return invalid(
      `\`${durationArg.slice(0, 40).replace(/`/g, '')}\` is not a duration from 1m to 30d: use e.g. \`90m\`, \`2h\` or \`1d\`, as in ${example}.`,
    );
  const vm = oneVm('mute', [vmArg], defaults);
  return typeof vm === 'string' ? invalid(vm) : { kind: 'mute', vm, forMs: ms };
}
