/**
 * Commands one after another through one `sh` on one session channel. Opening a session costs sshd a
 * process and the client two round trips per command; a run sends two dozen commands, so on a busy VM or
 * a distant one that is most of its time. Each command still runs as `sh -c <command>` with stdin from
 * /dev/null, exactly as over its own session; after it the shell prints a marker with the exit status on
 * stdout and a marker on stderr, each with a nonce no command output can guess. A server that does not
 * run the shell (no `sh`, a restricted account) is found out at the start and the caller falls back to a
 * session per command.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { formatDuration } from '../duration.js';
import { GitspacesError } from '../errors.js';
import type { ExecOptions, ExecResult } from '../setup/ports.js';
import { quote } from '../setup/shell.js';

/** How long the shell may take to answer its first marker before the caller gives up on it. */
const READY_MS = 15_000;

interface Running {
  options: ExecOptions;
  lost: (why: string) => GitspacesError;
  resolve(result: ExecResult): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** One stream's text, with the marker that ends a command looked for at its end. */
class Output {
  text = '';
  private shown = 0;
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly hold: number) {}

  add(chunk: Buffer): void {
    this.text += this.decoder.write(chunk);
  }

  /** Text not shown yet, keeping back what could be the start of the marker. */
  fresh(end = Math.max(this.shown, this.text.length - this.hold)): string {
    const text = this.text.slice(this.shown, end);
    this.shown = end;
    return text;
  }

  reset(): void {
    this.text = this.text.slice(this.shown);
    this.shown = 0;
  }
}

/** Stdin text as a here-document's body: ends with a newline; no line may be the end marker. */
function hereDocument(text: string, marker: string): string {
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  if (body.split('\n').includes(marker)) throw new Error('stdin holds the session marker');
  return body;
}

export class ShellSession {
  private readonly marker = `__gitspaces_${randomBytes(12).toString('hex')}__`;
  private readonly stdout: Output;
  private readonly stderr: Output;
  private running: Running | undefined;
  private closed = false;
  busy = false;

  private constructor(private readonly stream: ClientChannel) {
    this.stdout = new Output(this.marker.length + 16);
    this.stderr = new Output(this.marker.length + 4);
    stream.on('data', (chunk: Buffer) => {
      this.stdout.add(chunk);
      this.progress();
    });
    stream.stderr.on('data', (chunk: Buffer) => {
      this.stderr.add(chunk);
      this.progress();
    });
    stream.on('error', () => undefined);
    stream.on('close', () => this.end('the session ended before the command exited'));
  }

  /** True while the shell can take a command. */
  get usable(): boolean {
    return !this.closed && !this.busy;
  }

  /**
   * Starts the shell on an opened session channel and waits for it to answer; undefined (channel closed)
   * when the server does not run it.
   */
  static async start(stream: ClientChannel): Promise<ShellSession | undefined> {
    const session = new ShellSession(stream);
    session.busy = true;
    try {
      const ready = await session.send(
        `printf '\\n%s 0\\n' ${quote(session.marker)}; printf '\\n%s\\n' ${quote(session.marker)} >&2`,
        { timeoutMs: READY_MS },
        (why) => new GitspacesError('SSH_DISCONNECTED', why),
      );
      return ready.code === 0 && ready.stdout === '' ? session : session.discard();
    } catch {
      return session.discard();
    } finally {
      session.busy = false;
    }
  }

  private discard(): undefined {
    this.closed = true;
    this.stream.close();
    return undefined;
  }

  /**
   * Runs one command; the caller makes sure only one runs at a time (`busy`). Its stdin, when given, is a
   * here-document the shell reads from the session, so it is never part of an argv.
   */
  run(command: string, options: ExecOptions, lost: (why: string) => GitspacesError): Promise<ExecResult> {
    const done = `printf '\\n%s %d\\n' ${quote(this.marker)} "$?"; printf '\\n%s\\n' ${quote(this.marker)} >&2`;
    const line =
      options.stdin === undefined
        ? `sh -c ${quote(command)} </dev/null; ${done}`
        : `sh -c ${quote(command)} <<'${this.marker}'\n${hereDocument(options.stdin, this.marker)}${this.marker}\n${done}`;
    return this.send(line, options, lost).finally(() => {
      this.busy = false;
    });
  }

  private send(
    line: string,
    options: ExecOptions,
    lost: (why: string) => GitspacesError,
  ): Promise<ExecResult> {
    if (this.closed) return Promise.reject(lost('the shell session had ended'));
    return new Promise<ExecResult>((resolve, reject) => {
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.timedOut(options.timeoutMs as number, line), options.timeoutMs);
      this.running = { options, lost, resolve, reject, timer };
      this.stream.write(`${line}\n`);
    });
  }

  private timedOut(timeoutMs: number, line: string): void {
    const running = this.running;
    if (running === undefined) return;
    this.running = undefined;
    // The command and the shell go together: the next command gets a new shell.
    this.closed = true;
    this.stream.signal('KILL');
    this.stream.close();
    const what = line.startsWith('sh -c ') ? 'The command' : 'The shell';
    running.reject(
      new GitspacesError(
        'COMMAND_TIMEOUT',
        `${what} did not finish within ${formatDuration(timeoutMs)} on the VM and was stopped.`,
        { retryable: true },
      ),
    );
  }

  private show(text: string): void {
    const onOutput = this.running?.options.onOutput;
    if (text === '' || onOutput === undefined) return;
    try {
      onOutput(text);
    } catch {
      // A failing progress display must not end the command.
    }
  }

  private progress(): void {
    const running = this.running;
    if (running === undefined) return;
    const done = new RegExp(`\\n${this.marker} (\\d+)\\n$`).exec(this.stdout.text);
    const errDone = this.stderr.text.endsWith(`\n${this.marker}\n`);
    if (done === null || !errDone) {
      this.show(this.stdout.fresh() + this.stderr.fresh());
      return;
    }
    const stdoutEnd = done.index;
    const stderrEnd = this.stderr.text.length - this.marker.length - 2;
    this.show(this.stdout.fresh(stdoutEnd) + this.stderr.fresh(stderrEnd));
    const result: ExecResult = {
      code: Number(done[1]),
      signal: undefined,
      stdout: this.stdout.text.slice(0, stdoutEnd),
      stderr: this.stderr.text.slice(0, stderrEnd),
    };
    this.stdout.text = '';
    this.stderr.text = '';
    this.stdout.reset();
    this.stderr.reset();
    clearTimeout(running.timer);
    this.running = undefined;
    running.resolve(result);
  }

  private end(why: string): void {
    this.closed = true;
    const running = this.running;
    if (running === undefined) return;
    this.running = undefined;
    clearTimeout(running.timer);
    running.reject(running.lost(why));
  }
}
