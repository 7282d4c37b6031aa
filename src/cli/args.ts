import { type ParseArgsConfig, parseArgs } from 'node:util';
import { GitspacesError } from '../errors.js';

export interface TargetArgs {
  vm: string | undefined;
  host: string | undefined;
  port: number | undefined;
  user: string | undefined;
  knownHosts: string | undefined;
  name: string | undefined;
  yes: boolean;
  /** `upgrade --delegate/--runner <image-or-tag>`. */
  delegate?: string | undefined;
  runner?: string | undefined;
}

/** The options that name a VM to work on (and an upgrade's images), as node:util's parseArgs reads them. */
export const TARGET_OPTIONS_SPEC = {
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  'known-hosts': { type: 'string' },
  name: { type: 'string' },
  delegate: { type: 'string' },
  runner: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
} as const;

type OptionsSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs's error, said as this CLI says it. */
function parseArgsMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const flag = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `Unknown option ${flag}.`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    return message.includes('does not take an argument')
      ? `${flag} takes no value.`
      : `${flag} needs a value.`;
  return message;
}

/** A command's options and words (node:util's parseArgs); a bad option is a usage error that says which. */
export function readArgs<O extends OptionsSpec>(
  argv: readonly string[],
  options: O,
  usage: (message: string) => GitspacesError,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(parseArgsMessage(error));
  }
  for (const [name, value] of Object.entries(parsed.values))
    if (value === '') throw usage(`--${name} needs a value.`);
  return parsed;
}

export const USAGE = `Usage: gitspaces-bot <command> [options]

Commands:
  serve                 Slack app and worker in one process (what npm start runs)
  app                   the Slack app only
  worker                a worker only (run any number against one Redis)
  check-config [<vm>]   check every setting, Redis, Slack and Google; non-zero exit when anything is wrong
  setup  <vm> | --host <addr> [--port <n>] [--user <u>] [--known-hosts <file>] [--name <vm>] [--yes]
                        set up the runner and delegate on a VM, in this terminal
  upgrade <target> [--delegate <image-or-tag>] [--runner <image-or-tag>] [--yes]
                        replace the containers with these images (a bare tag keeps the repository),
                        after showing old → new; the old container comes back if the new one is not healthy
  plan   <target>       the checks alone: what setup would change (nothing is changed)
  status <target>       what is live on the VM
  logs   <target> runner|delegate [--lines <n>]
                        a container's last lines (default 100, at most 5000), secrets masked
  audit [--since 7d] [--vm <vm>] [--format table|jsonl]
                        who asked for each run and who decided, what it did, and when each step ran

<vm> is vm, zone/vm or project/zone/vm, found through the Compute API. --host skips the API;
then pin the host key with --known-hosts (or SSH_HOST_KEY_POLICY=known-hosts|tofu).
Exit codes: 0 success, 1 a step failed or was refused, 2 bad usage or configuration,
3 stopped at approval (no terminal and no --yes).`;

const TARGET_OPTIONS = `Target: <vm> (vm, zone/vm or project/zone/vm, found through the Compute API), or
  --host <addr>         skip the Compute API and connect to this address
  --port <n>            SSH port (default SSH_PORT, 22)
  --user <u>            SSH user (default SSH_USER, gitspaces)
  --known-hosts <file>  pinned host keys for --host (fill it with ssh-keyscan -t ed25519 <host> >> <file>,
                        checked against the VM's console)
  --name <vm>           the VM's name for DELEGATE_NAME (default: the host)`;

const COMMAND_USAGE: Record<string, string> = {
  setup: `Usage: gitspaces-bot setup <vm> | --host <addr> [--port <n>] [--user <u>] [--known-hosts <file>] [--name <vm>] [--yes]

Sets up the Harness runner and delegate on the VM, in this terminal, with live progress (no Slack, no Redis).
At approval it asks y/N on a terminal; --yes (-y) approves in advance; with no terminal and no --yes it stops
there (exit 3).

${TARGET_OPTIONS}

Exit codes: 0 success, 1 a step failed or was refused, 2 bad usage or configuration, 3 stopped at approval.`,
  plan: `Usage: gitspaces-bot plan <vm> | --host <addr> [--port <n>] [--user <u>] [--known-hosts <file>] [--name <vm>]

Runs the checks of every step and says what setup would change; nothing is changed.

${TARGET_OPTIONS}

Exit codes: 0 every check passed, 1 a check failed, 2 bad usage or configuration.`,
  status: `Usage: gitspaces-bot status <vm> | --host <addr> [--port <n>] [--user <u>] [--known-hosts <file>] [--name <vm>]

Shows what is live on the VM: Docker, the network, the runner and its health, the delegate and its health.

${TARGET_OPTIONS}

Exit codes: 0 runner and delegate healthy, 1 otherwise, 2 bad usage or configuration.`,
  logs: `Usage: gitspaces-bot logs <vm> | --host <addr> [--port <n>] [--user <u>] [--known-hosts <file>] [--name <vm>] runner|delegate [--lines <n>]

Prints the last lines of the runner (vm-runner) or the delegate container's log, stdout and stderr as
printed, with every secret the bot holds (delegate token, SSH key, pool file credentials, service-account
key) replaced by ***.

  --lines <n>           how many lines, 1 to 5000 (default 100)

${TARGET_OPTIONS}

Exit codes: 0 printed, 1 the VM or container could not be read, 2 bad usage or configuration.`,
};

/** The usage of `setup`, `plan`, `status` or `logs` (the general usage for anything else). */
export function commandUsage(command: string): string {
  return COMMAND_USAGE[command] ?? USAGE;
}

/** `--help` or `-h` anywhere among a command's arguments. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

function usage(message: string): GitspacesError {
  return new GitspacesError('USAGE', `${message}\n\n${USAGE}`);
}

type TargetValues = { [K in keyof typeof TARGET_OPTIONS_SPEC]?: K extends 'yes' ? boolean : string };

/** A target from parsed options and the words left: one VM, or `--host` with its options. */
export function targetFrom(values: TargetValues, words: readonly string[]): TargetArgs {
  const [vm, other] = words;
  if (other !== undefined) throw usage(`One VM at a time in the terminal (got ${vm} and ${other}).`);
  const { host, port } = values;
  if (vm !== undefined && host !== undefined) throw usage('Give a VM name or --host, not both.');
  if (vm === undefined && host === undefined) throw usage('Which VM? Give its name or --host <address>.');
  if (host !== undefined && !/^[A-Za-z0-9.:\-[\]]+$/.test(host))
    throw usage(`--host ${host} is not a host name or address.`);
  const portNumber = port === undefined ? undefined : Number(port);
  if (portNumber !== undefined && (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535))
    throw usage(`--port ${port} is not a port number.`);
  return {
    vm,
    host,
    port: portNumber,
    user: values.user,
    knownHosts: values['known-hosts'],
    name: values.name,
    yes: values.yes ?? false,
    ...(values.delegate === undefined ? {} : { delegate: values.delegate }),
    ...(values.runner === undefined ? {} : { runner: values.runner }),
  };
}

/** Parses `setup`/`plan`/`status`/`upgrade` arguments: one VM, or `--host` with its options. */
export function parseTargetArgs(argv: readonly string[]): TargetArgs {
  const { values, positionals } = readArgs(argv, TARGET_OPTIONS_SPEC, usage);
  return targetFrom(values, positionals);
}
