/**
 * `logs <vm> runner|delegate [lines]`: the last lines a container printed, read over SSH with `docker logs`
 * and redacted of every secret the bot holds for the VM before anyone sees them.
 */
import { GitspacesError } from '../errors.js';
import { RUNNER_NAME } from './container-specs.js';
import { registerKnownSecrets } from './known-secrets.js';
import type { SetupTarget } from './preflight.js';
import { Redactor } from './redactor.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';
import { command } from './shell.js';
import { connectToVm } from './vm-connection.js';
import { VmShell } from './vm-shell.js';

export type LogsContainer = 'runner' | 'delegate';

/** Lines shown when none are asked for, and the most one request reads (a 5,000-line file is a few MB). */
export const LOG_LINES = { default: 100, max: 5000 } as const;

export interface LogsRequest {
  container: LogsContainer;
  lines: number;
}

export interface ContainerLogs {
  vm: string;
  /** The container's name on the VM (`vm-runner`, the delegate's name). */
  container: string;
  /** Lines asked for; `text` has fewer when the container printed fewer. */
  requested: number;
  /** The log, stdout and stderr interleaved as printed, every known secret replaced by `***`. */
  text: string;
}

export type LogsDeps = Pick<
  EngineDeps,
  'secrets' | 'vms' | 'pinFor' | 'needsPublishedKeys' | 'connect' | 'keys'
>;

const LOGS_TIMEOUT_MS = 60_000;

/** A line count as typed (`200`), or undefined when it is not a whole number from 1 to the maximum. */
export function parseLogLines(text: string): number | undefined {
  if (!/^\d{1,6}$/.test(text)) return undefined;
  const lines = Number(text);
  return lines >= 1 && lines <= LOG_LINES.max ? lines : undefined;
}

export function logsContainerName(settings: SetupSettings, container: LogsContainer): string {
  return container === 'runner' ? RUNNER_NAME : settings.delegateName;
}

/** Connects as `status` does and reads the container's last lines; refuses to show anything it cannot redact. */
export async function containerLogs(
  target: SetupTarget,
  settings: SetupSettings,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: LogsDeps,
  request: LogsRequest,
): Promise<ContainerLogs> {
  const redactor = new Redactor();
  const { remote } = await connectToVm(target, settings, ssh, deps, () =>
    registerKnownSecrets(settings.secretRefs, deps.secrets, redactor),
  );
  const name = logsContainerName(settings, request.container);
  try {
    const text = await readLogs(new VmShell(remote, redactor), settings.vm, name, request.lines);
    return { vm: settings.vm, container: name, requested: request.lines, text: redactor.redact(text) };
  } finally {
    await remote.close();
  }
}

/** `docker logs` writes the container's stdout and stderr to its own; `2>&1` keeps them in printed order. */
export async function readLogs(shell: VmShell, vm: string, name: string, lines: number): Promise<string> {
  const script = `${command('docker', 'logs', '--tail', String(lines), name)} 2>&1`;
  const label = `docker logs ${name}`;
  const result = await shell.script(
    script,
    { root: true, allowFail: true, timeoutMs: LOGS_TIMEOUT_MS },
    label,
  );
  if (result.code === 0) return result.stdout.trimEnd();
  if (/No such container/i.test(result.stdout))
    throw new GitspacesError(
      'CONTAINER_MISSING',
      `no container ${name} on ${vm}: run /gitspaces setup ${vm} (or gitspaces-bot setup ${vm})`,
    );
  throw shell.failure(label, result);
}
