import { randomUUID } from 'node:crypto';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createEngineDeps, runInputFor, settingsFor } from '../compose.js';
import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';
import type { Io } from '../io.js';
import { runSetup, type SetupTarget } from '../setup/engine.js';
import { imageFor } from '../setup/image-ref.js';
import { memoryJournal } from '../setup/memory-journal.js';
import type { HostKeyStore } from '../setup/ports.js';
import { describeStatus } from '../setup/probe.js';
import { Redactor } from '../setup/redactor.js';
import { vmStatus } from '../setup/status.js';
import { parseVmRef } from '../setup/vm-ref.js';
import { createFileHostKeyStore } from '../ssh/file-host-key-store.js';
import type { TargetArgs } from './args.js';
import { terminalGate } from './terminal-gate.js';
import { summary, terminalReporter } from './terminal-reporter.js';

export type { Io };

/** Exit codes of the contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2, approval: 3 } as const;

/** Command-line options override the configuration: --user, --port, --known-hosts. */
export function applyTargetArgs(config: Config, args: TargetArgs): Config {
  const ssh = { ...config.ssh };
  if (args.user) ssh.user = args.user;
  if (args.port && !args.host) ssh.port = args.port;
  if (args.knownHosts) {
    ssh.hostKeyPolicy = 'known-hosts';
    ssh.knownHosts = args.knownHosts;
  }
  if (args.host && ssh.hostKeyPolicy === 'guest-attributes') {
    throw new GitspacesError(
      'USAGE',
      "--host skips the Compute API, so the VM's published host keys are not available: pin the key with --known-hosts <file> (or set SSH_HOST_KEY_POLICY=known-hosts with SSH_KNOWN_HOSTS, or tofu).",
    );
  }
  return { ...config, ssh };
}

export function targetOf(config: Config, args: TargetArgs): { target: SetupTarget; vm: string } {
  if (args.host) {
    const name = args.name ?? args.host;
    return { target: { kind: 'host', host: args.host, port: args.port ?? config.ssh.port, name }, vm: name };
  }
  const ref = parseVmRef(args.vm ?? '', config.gcp);
  return { target: { kind: 'vm', ref }, vm: ref.name };
}

/** Where `tofu` keeps host keys learned from a terminal (no Redis there). */
export function hostKeyStore(config: Config): HostKeyStore | undefined {
  if (config.ssh.hostKeyPolicy !== 'tofu') return undefined;
  const dir = config.env.XDG_STATE_HOME ?? join(config.env.HOME ?? homedir(), '.local', 'state');
  return createFileHostKeyStore(join(dir, 'gitspaces-bot', 'known-hosts.json'));
}

/** `setup`, `upgrade` and `plan` in the terminal: no Slack, no Redis. */
export async function terminalRun(
  command: 'setup' | 'plan' | 'upgrade',
  config: Config,
  args: TargetArgs,
  io: Io,
): Promise<number> {
  const { target, vm } = targetOf(config, args);
  const settings = settingsFor(config, vm);
  const reporter = terminalReporter(io.stdout);
  const store = hostKeyStore(config);
  const deps = createEngineDeps(config, {
    reporter,
    gate: terminalGate({ yes: args.yes, input: io.stdin, output: io.stdout, user: userInfo().username }),
    journal: memoryJournal(),
    ...(store ? { hostKeyStore: store } : {}),
  });
  const mode = command === 'plan' ? 'plan' : 'setup';
  const input = runInputFor(config, `cli-${randomUUID()}`, mode, target, settings);
  if (command === 'upgrade') {
    input.kind = 'upgrade';
    input.upgrade = {
      delegate: args.delegate === undefined ? undefined : imageFor(config.delegateImage, args.delegate),
      runner: args.runner === undefined ? undefined : imageFor(config.runnerImage, args.runner),
    };
  }
  const result = await runSetup(input, deps);
  reporter.stop();
  if (result.state === 'awaiting-approval') {
    io.stdout.write(
      `${summary(result)}\nNo terminal to ask on: run again with --yes to approve what changes.\n`,
    );
    return EXIT.approval;
  }
  return result.state === 'succeeded' ? EXIT.ok : EXIT.failed;
}

/** `status` in the terminal: connect and show what is live. */
export async function terminalStatus(config: Config, args: TargetArgs, io: Io): Promise<number> {
  const { target, vm } = targetOf(config, args);
  const settings = settingsFor(config, vm);
  const redactor = new Redactor();
  const store = hostKeyStore(config);
  const deps = createEngineDeps(config, {
    reporter: terminalReporter(io.stdout),
    gate: { decide: async () => ({ kind: 'pending' }) },
    journal: memoryJournal(),
    redactor,
    ...(store ? { hostKeyStore: store } : {}),
  });
  const status = await vmStatus(target, settings, config.ssh, deps, redactor);
  io.stdout.write(
    `${vm}\n${describeStatus(status)
      .map((l) => `  ${l}`)
      .join('\n')}\n`,
  );
  return status.runner.healthy && status.delegate.healthy ? EXIT.ok : EXIT.failed;
}
