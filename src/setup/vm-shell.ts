import { GitspacesError } from '../errors.js';
import type { ExecResult, RemoteHost } from './ports.js';
import type { Redactor } from './redactor.js';
import { command, privileged } from './shell.js';

export interface RunOptions {
  /** Run through `sudo -n` when the SSH user is not root. */
  root?: boolean;
  /** Resolve with a non-zero result instead of throwing. */
  allowFail?: boolean;
  timeoutMs?: number;
  /** This command's output as it arrives (not yet redacted). */
  onOutput?: (text: string) => void;
  /** Text the command reads on stdin (see `stdinFile`). */
  stdin?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** The last lines of a command's output, redacted, for error messages. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Commands on the VM as argv arrays: every argument is quoted, privileged ones get `sudo -n`, a failure
 * becomes COMMAND_FAILED with the exit code and the redacted stderr.
 */
export class VmShell {
  constructor(
    readonly remote: RemoteHost,
    private readonly redactor: Redactor,
    private readonly onOutput?: (text: string) => void,
  ) {}

  get user(): string {
    return this.remote.user;
  }

  run(argv: string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.script(command(...argv), options, argv.slice(0, 3).join(' '));
  }

  /** A shell script (already quoted by the caller). */
  async script(script: string, options: RunOptions = {}, label = script.slice(0, 60)): Promise<ExecResult> {
    const wrapped = options.root ? privileged(this.remote.user, script) : script;
    const onOutput = options.onOutput ?? this.onOutput;
    const result = await this.remote.exec(wrapped, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(onOutput ? { onOutput } : {}),
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });
    if (result.code === 0 || options.allowFail) return result;
    throw this.failure(label, result);
  }

  /**
   * Every step after `connect` needs root: a user without passwordless sudo is told so before anything on
   * the VM changes, rather than halfway through a step.
   */
  async assertSudo(): Promise<void> {
    if (this.remote.user === 'root') return;
    const result = await this.script('sudo -n true', { allowFail: true, timeoutMs: 30_000 }, 'sudo -n true');
    if (result.code === 0) return;
    const missing = result.code === 127 || /sudo: (command )?not found/.test(result.stderr);
    throw new GitspacesError(
      'SUDO_REQUIRED',
      missing
        ? `${this.remote.user} is not root and the VM has no \`sudo\`: install sudo and give ${this.remote.user} passwordless sudo (or SSH as root). Nothing was changed.`
        : `${this.remote.user} has no passwordless sudo on the VM, which every step needs. Add \`${this.remote.user} ALL=(ALL) NOPASSWD:ALL\` under /etc/sudoers.d/ (GCE's OS Login: roles/compute.osAdminLogin). Nothing was changed.`,
      { detail: this.redactor.redact(tail(`${result.stderr}\n${result.stdout}`.trim())) },
    );
  }

  failure(label: string, result: ExecResult): GitspacesError {
    const how =
      result.code === null
        ? `was killed by ${result.signal ?? 'a signal'}`
        : `exited with code ${result.code}`;
    const output = this.redactor.redact(tail(`${result.stderr}\n${result.stdout}`.trim()));
    if (/sudo: a (terminal|password) is required/.test(result.stderr)) {
      return new GitspacesError(
        'SUDO_REQUIRED',
        `\`${label}\` needs root, and sudo asked for a password for ${this.remote.user}. Give that user passwordless sudo (or SSH as root).`,
        { detail: output },
      );
    }
    return new GitspacesError('COMMAND_FAILED', `\`${label}\` ${how}.`, { detail: output });
  }
}
