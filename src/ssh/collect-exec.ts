import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { formatDuration } from '../duration.js';
import { GitspacesError } from '../errors.js';
import type { ExecOptions, ExecResult } from '../setup/ports.js';

export type Settle<T> = { resolve: (value: T) => void; reject: (error: unknown) => void };

export interface ExecChannel {
  /** The command as messages name it. */
  during: string;
  options: ExecOptions;
  /** Frees the channel slot once the channel is closed. */
  release: () => void;
  settle: Settle<ExecResult>;
  /** The error for a channel that closed without an exit status. */
  lost: (why: string) => GitspacesError;
}

/**
 * Gathers a command's output until its channel closes. Stdin stays open unless the command is given some:
 * ssh2 sends the `signal` request only on an open channel, and a timed-out command must be killable (one that
 * was given stdin still ends when the channel closes, at its next write).
 */
export function collectExec(
  stream: ClientChannel,
  { during, options, release, settle, lost }: ExecChannel,
): void {
  if (options.stdin !== undefined) stream.end(options.stdin);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')] as const;
  const show = (text: string) => {
    if (text === '' || options.onOutput === undefined) return;
    try {
      options.onOutput(text);
    } catch {
      // A failing progress display must not end the command (or, thrown from a stream event, the process).
    }
  };
  stream.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    show(decoders[0].write(chunk));
  });
  stream.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    show(decoders[1].write(chunk));
  });
  stream.on('error', (error: Error) => settle.reject(lost(error.message)));
  let exit: { code: number | null; signal: string | undefined } | undefined;
  stream.on('exit', (code: number | null, signal?: string) => {
    exit = { code: code ?? null, signal: signal ?? undefined };
  });
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(stop, options.timeoutMs, options.timeoutMs);
  function stop(timeoutMs: number) {
    // sshd (OpenSSH 8.1+) kills the command's process group, for non-root users under privilege
    // separation; in every case closing the channel closes its pipes, which ends it at its next write.
    stream.signal('KILL');
    stream.close();
    const message = `${during} did not finish within ${formatDuration(timeoutMs)} on the VM and was stopped.`;
    settle.reject(new GitspacesError('COMMAND_TIMEOUT', message, { retryable: true }));
  }
  stream.on('close', () => {
    clearTimeout(timer);
    release();
    show(decoders[0].end() + decoders[1].end());
    if (exit === undefined) {
      settle.reject(lost('the session ended before the command exited'));
      return;
    }
    settle.resolve({
      ...exit,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    });
  });
}
