import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { formatDuration } from '../duration.js';
import { GitspacesError } from '../errors.js';
import type { ExecOptions, ExecResult, RemoteHost } from '../setup/ports.js';
import { ChannelLimit } from './channel-limit.js';
import { sftpWriteError, writeRemoteFile } from './sftp-write.js';
import { describeCommand, disconnected, type Target } from './ssh-errors.js';

/** sshd's default MaxSessions is 10; stay below it so a stray session (an agent, a retry) still fits. */
const MAX_CHANNELS = 8;

type Settle<T> = { resolve: (value: T) => void; reject: (error: unknown) => void };

/** One ready ssh2 connection: commands on session channels, files over one reused SFTP session. */
export class Ssh2RemoteHost implements RemoteHost {
  readonly user: string;
  private closed = false;
  private closeReason: string | undefined;
  private readonly drops = new Set<() => void>();
  private readonly channels = new ChannelLimit(MAX_CHANNELS);
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly ended: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly target: Target,
  ) {
    this.user = target.user;
    client.on('error', (error: Error) => {
      this.closeReason ??= error.message;
    });
    client.on('end', () => this.markClosed());
    this.ended = new Promise((resolve) => client.once('close', resolve));
    void this.ended.then(() => this.markClosed());
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const drop of this.drops) drop();
    this.drops.clear();
  }

  /** Settles with `start`'s outcome, or with SSH_DISCONNECTED as soon as the connection drops. */
  private whileConnected<T>(during: string, start: (settle: Settle<T>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) return reject(disconnected(this.target, during, this.closeReason));
      const drop = () => reject(disconnected(this.target, during, this.closeReason));
      this.drops.add(drop);
      const done = () => this.drops.delete(drop);
      start({
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const during = `"${describeCommand(command)}"`;
    if (this.closed) throw disconnected(this.target, during, this.closeReason);
    const release = await this.channels.acquire();
    return this.whileConnected<ExecResult>(during, (settle) => {
      const opened = (error: Error | undefined, stream: ClientChannel) => {
        if (error) {
          release();
          settle.reject(this.openFailure(error, during));
          return;
        }
        this.collect(stream, during, options, release, settle);
      };
      try {
        this.client.exec(command, opened);
      } catch (error) {
        release();
        settle.reject(this.openFailure(error as Error, during));
      }
    });
  }

  private openFailure(error: Error, during: string): GitspacesError {
    if (this.closed) return disconnected(this.target, during, this.closeReason ?? error.message);
    return new GitspacesError(
      'COMMAND_FAILED',
      `The VM refused to open an SSH session for ${during}: ${error.message}. Check sshd's MaxSessions on the VM.`,
      { retryable: true, cause: error },
    );
  }

  /**
   * Gathers output until the channel closes. Stdin stays open: ssh2 sends the `signal` request only on an
   * open channel, and a timed-out command must be killable (none of the bot's commands read stdin).
   */
  private collect(
    stream: ClientChannel,
    during: string,
    options: ExecOptions,
    release: () => void,
    settle: Settle<ExecResult>,
  ): void {
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
    stream.on('error', (error: Error) => settle.reject(disconnected(this.target, during, error.message)));
    let exit: { code: number | null; signal: string | undefined } | undefined;
    stream.on('exit', (code: number | null, signal?: string) => {
      exit = { code: code ?? null, signal: signal ?? undefined };
    });
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      const timeoutMs = options.timeoutMs;
      timer = setTimeout(() => {
        // sshd (OpenSSH 8.1+) kills the command's process group, for non-root users under privilege
        // separation; in every case closing the channel closes its pipes, which ends it at its next write.
        stream.signal('KILL');
        stream.close();
        settle.reject(
          new GitspacesError(
            'COMMAND_TIMEOUT',
            `${during} did not finish within ${formatDuration(timeoutMs)} on the VM and was stopped.`,
            { retryable: true },
          ),
        );
      }, timeoutMs);
    }
    stream.on('close', () => {
      clearTimeout(timer);
      release();
      show(decoders[0].end() + decoders[1].end());
      if (exit === undefined) {
        settle.reject(
          disconnected(
            this.target,
            during,
            this.closeReason ?? 'the session ended before the command exited',
          ),
        );
        return;
      }
      settle.resolve({
        ...exit,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  }

  async putFile(path: string, content: string | Buffer, mode: number): Promise<void> {
    const during = `writing ${path}`;
    const sftp = await this.sftp(during);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return this.whileConnected<void>(during, (settle) => {
      writeRemoteFile(sftp, path, data, mode).then(settle.resolve, (error) =>
        settle.reject(
          this.closed ? disconnected(this.target, during) : sftpWriteError(error, path, this.user),
        ),
      );
    });
  }

  private sftp(during: string): Promise<SFTPWrapper> {
    if (this.sftpSession === undefined) {
      const session = this.openSftp(during);
      this.sftpSession = session;
      session.catch(() => {
        if (this.sftpSession === session) this.sftpSession = undefined;
      });
    }
    return this.sftpSession;
  }

  private async openSftp(during: string): Promise<SFTPWrapper> {
    const release = await this.channels.acquire();
    return this.whileConnected<SFTPWrapper>(during, (settle) => {
      this.client.sftp((error, sftp) => {
        if (error) {
          release();
          settle.reject(
            this.closed
              ? disconnected(this.target, during)
              : new GitspacesError(
                  'COMMAND_FAILED',
                  `The VM's sshd would not start SFTP (${error.message}): enable "Subsystem sftp" in its sshd_config.`,
                  { cause: error },
                ),
          );
          return;
        }
        // Failures reach each operation's callback; an unheard 'error' event would crash the process.
        sftp.on('error', () => undefined);
        // A session the server ended is opened afresh on the next write.
        sftp.once('close', () => {
          release();
          this.sftpSession = undefined;
        });
        settle.resolve(sftp);
      });
    });
  }

  async close(): Promise<void> {
    if (!this.closed) this.client.end();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
    await Promise.race([this.ended, grace]);
    this.client.destroy();
  }
}
