import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { GitspacesError } from '../errors.js';
import type { ExecOptions, ExecResult, HttpAnswer, RemoteHost } from '../setup/ports.js';
import { ChannelLimit } from './channel-limit.js';
import { collectExec, type Settle } from './collect-exec.js';
import { httpGetThrough } from './forward-http.js';
import { KeptShell } from './kept-shell.js';
import { sftpWriteError, writeRemoteFile } from './sftp-write.js';
import { ShellSession } from './shell-session.js';
import { describeCommand, disconnected, type Target } from './ssh-errors.js';

/** sshd's default MaxSessions is 10; stay below it so a stray session (an agent, a retry) still fits. */
const MAX_CHANNELS = 8;
/** How often a session refused at sshd's cap is asked for again (25 ms more each time) before failing. */
const OPEN_RETRIES = 6;

/** One ready ssh2 connection: commands on session channels, files over one reused SFTP session. */
export class Ssh2RemoteHost implements RemoteHost {
  readonly user: string;
  private closed = false;
  private closeReason: string | undefined;
  private readonly drops = new Set<() => void>();
  private readonly channels = new ChannelLimit(MAX_CHANNELS);
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly ended: Promise<void>;
  /** Where commands run one after another (undefined until opened, or when the server has none). */
  private readonly userShell = new KeptShell(() => this.openShell('exec sh -s'));

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
    const shell = await this.userShell.take();
    if (shell !== undefined) {
      try {
        return await this.whileConnected<ExecResult>(during, (settle) => {
          const lost = (why: string) => disconnected(this.target, during, this.closeReason ?? why);
          shell.run(command, options, lost).then(settle.resolve, (error: unknown) =>
            settle.reject(
              error instanceof GitspacesError && error.code === 'COMMAND_TIMEOUT'
                ? new GitspacesError('COMMAND_TIMEOUT', error.message.replace(/^The command/, during), {
                    retryable: true,
                  })
                : error,
            ),
          );
        });
      } finally {
        shell.busy = false;
      }
    }
    return this.execOnOwnSession(command, options, during);
  }

  private async openShell(start: string): Promise<ShellSession | undefined> {
    const during = 'starting a shell';
    const release = await this.channels.acquire();
    const stream = await this.whileConnected<ClientChannel | undefined>(during, (settle) => {
      try {
        this.client.exec(start, (error, channel) => settle.resolve(error ? undefined : channel));
      } catch {
        settle.resolve(undefined);
      }
    }).catch(() => undefined);
    if (stream === undefined) {
      release();
      return undefined;
    }
    stream.once('close', release);
    return ShellSession.start(stream);
  }

  private async execOnOwnSession(command: string, options: ExecOptions, during: string): Promise<ExecResult> {
    const release = await this.channels.acquire();
    return this.whileConnected<ExecResult>(during, (settle) => {
      let refusals = 0;
      const opened = (error: Error | undefined, stream: ClientChannel) => {
        // sshd frees a closed session's slot a moment after the close reaches us (it does so in a later
        // pass of its loop, slower for a non-root login), so a refusal at the cap is retried briefly.
        if (error && !this.closed && refusals < OPEN_RETRIES) {
          refusals += 1;
          setTimeout(open, 25 * refusals);
          return;
        }
        if (error) {
          release();
          settle.reject(this.openFailure(error, during));
          return;
        }
        collectExec(stream, {
          during,
          options,
          release,
          settle,
          lost: (why) => disconnected(this.target, during, this.closeReason ?? why),
        });
      };
      const open = () => {
        try {
          this.client.exec(command, opened);
        } catch (error) {
          release();
          settle.reject(this.openFailure(error as Error, during));
        }
      };
      open();
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

  async httpGet(port: number, path: string, timeoutMs: number): Promise<HttpAnswer | undefined> {
    const during = `GET 127.0.0.1:${port}${path}`;
    const release = await this.channels.acquire();
    try {
      return await this.whileConnected<HttpAnswer | undefined>(during, (settle) => {
        httpGetThrough(this.client, port, path, timeoutMs).then(settle.resolve, settle.reject);
      });
    } finally {
      release();
    }
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
