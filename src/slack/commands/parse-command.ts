import { isGitspacesError } from '../../errors.js';
import type { VmRef } from '../../setup/ports.js';
import { parseVmRef } from '../../setup/vm-ref.js';
import type { Command, VmDefaults } from './command.js';
import { parseLogs } from './parse-logs.js';
import { parseMute } from './parse-watch.js';

export type { Command, VmDefaults } from './command.js';

/** Words of the command text; Slack may send commas, several spaces or non-breaking spaces between them. */
function words(text: string): string[] {
  return text
    .replace(/&nbsp;|\u00a0/g, ' ')
    .split(/[\s,]+/)
    .filter(Boolean);
}

/** Every VM or the first problem: a command with one bad VM starts nothing. */
function parseVms(args: string[], defaults: VmDefaults): VmRef[] | string {
  const refs: VmRef[] = [];
  const problems: string[] = [];
  for (const arg of args) {
    try {
      const ref = parseVmRef(arg, defaults);
      if (!refs.some((r) => r.name === ref.name && r.zone === ref.zone && r.project === ref.project))
        refs.push(ref);
    } catch (error) {
      if (!isGitspacesError(error)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) return `${problems.join('\n')}\nNothing was started.`;
  return refs;
}

function oneVm(verb: string, args: string[], defaults: VmDefaults): VmRef | string {
  if (args.length !== 1)
    return `\`/gitspaces ${verb}\` takes exactly one VM, e.g. \`/gitspaces ${verb} gitspaces-runner\`.`;
  const refs = parseVms(args, defaults);
  return typeof refs === 'string' ? refs : (refs[0] as VmRef);
}

const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$/;

/** `upgrade <vm> [<vm>…] [delegate=<image-or-tag>] [runner=<image-or-tag>]`. */
function parseUpgrade(args: string[], defaults: VmDefaults): Command {
  const images: { delegate?: string; runner?: string } = {};
  const vmArgs: string[] = [];
  for (const arg of args) {
    const found = /^(delegate|runner)=(.*)$/i.exec(arg);
    if (!found) {
      vmArgs.push(arg);
      continue;
    }
    const [, which = '', value = ''] = found;
    if (!IMAGE.test(value))
      return {
        kind: 'invalid',
        problem: `\`${arg.slice(0, 80).replace(/`/g, '')}\` is not an image or tag: use e.g. \`delegate=26.11.87100\` or \`runner=drone/drone-runner-aws:1.0.0\`. Nothing was started.`,
      };
    images[which.toLowerCase() as 'delegate' | 'runner'] = value;
  }
  if (vmArgs.length === 0)
    return {
      kind: 'invalid',
      problem: 'Which VM? e.g. `/gitspaces upgrade gitspaces-runner delegate=26.11.87100`.',
    };
  const vms = parseVms(vmArgs, defaults);
  return typeof vms === 'string' ? { kind: 'invalid', problem: vms } : { kind: 'upgrade', vms, images };
}

/** `/gitspaces <text>` → what to do. Pure: validates every VM before anything happens. */
export function parseCommand(text: string, defaults: VmDefaults): Command {
  const [verb = 'help', ...args] = words(text);
  switch (verb.toLowerCase()) {
    case 'setup': {
      if (args.length === 0) return { kind: 'setup-modal' };
      const vms = parseVms(args, defaults);
      return typeof vms === 'string' ? { kind: 'invalid', problem: vms } : { kind: 'setup', vms };
    }
    case 'upgrade':
      return parseUpgrade(args, defaults);
    case 'status': {
      if (args.length === 0) return { kind: 'status', vm: undefined };
      const vm = oneVm('status', args, defaults);
      return typeof vm === 'string' ? { kind: 'invalid', problem: vm } : { kind: 'status', vm };
    }
    case 'watch':
      return args.length === 0
        ? { kind: 'watch' }
        : {
            kind: 'invalid',
            problem: '`/gitspaces watch` takes nothing: it lists the VMs this channel watches.',
          };
    case 'mute':
      return parseMute(args, defaults, oneVm);
    case 'plan':
    case 'cancel':
    case 'unmute':
    case 'forget': {
      const kind = verb.toLowerCase() as 'plan' | 'cancel' | 'unmute' | 'forget';
      const vm = oneVm(kind, args, defaults);
      return typeof vm === 'string' ? { kind: 'invalid', problem: vm } : { kind, vm };
    }
    case 'logs':
      return parseLogs(args, defaults);
    case 'help':
      return { kind: 'help' };
    default:
      return {
        kind: 'invalid',
        problem: `\`${verb.slice(0, 40).replace(/`/g, '')}\` is not a Gitspaces command.`,
      };
  }
}
