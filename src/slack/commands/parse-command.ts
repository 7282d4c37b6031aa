import { isGitspacesError } from '../../errors.js';
import type { VmRef } from '../../setup/ports.js';
import { parseVmRef } from '../../setup/vm-ref.js';

export type Command =
  | { kind: 'setup'; vms: VmRef[] }
  | { kind: 'setup-modal' }
  | { kind: 'status'; vm: VmRef | undefined }
  | { kind: 'plan'; vm: VmRef }
  | { kind: 'cancel'; vm: VmRef }
  | { kind: 'help' }
  /** Something to tell the user, with the usage. Nothing is started. */
  | { kind: 'invalid'; problem: string };

export interface VmDefaults {
  project: string | undefined;
  zone: string | undefined;
}

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

/** `/gitspaces <text>` → what to do. Pure: validates every VM before anything happens. */
export function parseCommand(text: string, defaults: VmDefaults): Command {
  const [verb = 'help', ...args] = words(text);
  switch (verb.toLowerCase()) {
    case 'setup': {
      if (args.length === 0) return { kind: 'setup-modal' };
      const vms = parseVms(args, defaults);
      return typeof vms === 'string' ? { kind: 'invalid', problem: vms } : { kind: 'setup', vms };
    }
    case 'status': {
      if (args.length === 0) return { kind: 'status', vm: undefined };
      const vm = oneVm('status', args, defaults);
      return typeof vm === 'string' ? { kind: 'invalid', problem: vm } : { kind: 'status', vm };
    }
    case 'plan':
    case 'cancel': {
      const kind = verb.toLowerCase() as 'plan' | 'cancel';
      const vm = oneVm(kind, args, defaults);
      return typeof vm === 'string' ? { kind: 'invalid', problem: vm } : { kind, vm };
    }
    case 'help':
      return { kind: 'help' };
    default:
      return {
        kind: 'invalid',
        problem: `\`${verb.slice(0, 40).replace(/`/g, '')}\` is not a Gitspaces command.`,
      };
  }
}
