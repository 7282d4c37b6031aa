/**
 * One emulated VM behind an in-process ssh2 Server: public-key login for one user key, exec requests
 * answered by a FakeVm after a fixed delay (the VM's command time and network round trip), files written
 * over SFTP (open, fchmod, write, close: what the engine uses) answered at once.
 */
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type ParsedKey, type ServerChannel, type SFTPWrapper } from 'ssh2';
import type { HostKey } from '../../src/setup/ports.js';
import { parsePublicKeyLine } from '../../src/ssh/host-key.js';
import { ed25519KeyPair } from '../../test/support/ssh-keys.js';
import { FakeVm } from './fake-vm.js';
import { unquote, WORD } from './shell-words.js';

const { OK, FAILURE, OP_UNSUPPORTED } = ssh2.utils.sftp.STATUS_CODE;

export interface VmServerOptions {
  host: string;
  port: number;
  userKey: ParsedKey;
  /** Added to every exec request before it answers. */
  delayMs: number;
}

export interface VmServer {
  host: string;
  port: number;
  hostKey: HostKey;
  vm: FakeVm;
  /** SSH connections accepted so far. */
  connections(): number;
  /** SSH connections open now (a run holds one while it is in its steps). */
  openConnections(): number;
  /** Changes the delay of exec requests from now on. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startVmServer(options: VmServerOptions): Promise<VmServer> {
  const keys = ed25519KeyPair();
  const vm = new FakeVm();
  let connections = 0;
  let delayMs = options.delayMs;
  const clients = new Set<Connection>();
  const server = new ssh2.Server({ hostKeys: [keys.private] }, (client) => {
    connections += 1;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    // Answers go out as soon as they are written, as OpenSSH's sshd does for these small packets.
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const wanted = options.userKey;
      if (ctx.key.algo !== wanted.type || !ctx.key.data.equals(wanted.getPublicSSH())) return ctx.reject();
      if (ctx.signature === undefined) return ctx.accept();
      return wanted.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true
        ? ctx.accept()
        : ctx.reject();
    });
    client.on('ready', () => {
      client.on('tcpip', (accept, reject, info) => {
        if (info.destPort !== RUNNER_PORT || !vm.runnerAnswers()) return reject();
        setTimeout(() => answerHealthz(accept()), delayMs);
      });
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          if (info.command === 'exec sh -s') return serveShell(stream, vm, () => delayMs);
          const answer = (stdin: string) => {
            const out = vm.exec(info.command, stdin);
            setTimeout(() => {
              if (out.stdout !== '') stream.write(out.stdout);
              if (out.stderr !== '') stream.stderr.write(out.stderr);
              stream.exit(out.code);
              stream.end();
            }, delayMs);
          };
          // A script that reads a file from stdin runs once the client has sent it all and closed stdin.
          if (!READS_STDIN.test(info.command)) return answer('');
          let stdin = '';
          stream.on('data', (chunk: Buffer) => {
            stdin += chunk.toString('utf8');
          });
          stream.once('end', () => answer(stdin));
        });
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), vm));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    host: options.host,
    port: (server.address() as AddressInfo).port,
    hostKey: parsePublicKeyLine(keys.public),
    vm,
    connections: () => connections,
    openConnections: () => clients.size,
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.end();
        server.close(() => resolve());
      }),
  };
}

/** The marker line the bot's shell session starts with, and the line each command goes in. */
const READY = new RegExp(String.raw`^printf '\\n%s 0\\n' (${WORD}); printf '\\n%s\\n' ${WORD} >&2$`);
const DONE = String.raw`printf '\\n%s %d\\n' (${WORD}) "\$\?"; printf '\\n%s\\n' ${WORD} >&2`;
const COMMAND = new RegExp(String.raw`^sh -c (${WORD}) </dev/null; ${DONE}$`);
/** A command given stdin: its first line, the here-document's lines, its end marker, then DONE alone. */
const HEREDOC = new RegExp(String.raw`^sh -c (${WORD}) <<'([^']+)'$`);
const DONE_LINE = new RegExp(`^${DONE}$`);
const READS_STDIN = /base64 -d >/;
const RUNNER_PORT = 3000;

interface ShellUnit {
  command: string | undefined;
  stdin: string;
  marker: string;
}

/** Turns the shell's input lines into commands; undefined for a line no command of the bot looks like. */
class ShellReader {
  private heredoc: { command: string; end: string; body: string[]; closed: boolean } | undefined;
  /** The start of a line whose quoted script goes on over the next lines. */
  private partial = '';

  line(text: string): ShellUnit | 'more' | undefined {
    const doc = this.heredoc;
    if (doc === undefined || doc.closed) {
      const line = this.partial + text;
      this.partial = '';
      if (!quotesClosed(line)) {
        this.partial = `${line}\n`;
        return 'more';
      }
      return this.complete(line);
    }
    if (text === doc.end) doc.closed = true;
    else doc.body.push(text);
    return 'more';
  }

  private complete(line: string): ShellUnit | 'more' | undefined {
    const doc = this.heredoc;
    if (doc) {
      this.heredoc = undefined;
      const done = DONE_LINE.exec(line);
      const stdin = doc.body.map((l) => `${l}\n`).join('');
      return done ? { command: doc.command, stdin, marker: unquote(done[1] as string) } : undefined;
    }
    const ready = READY.exec(line);
    if (ready) return { command: undefined, stdin: '', marker: unquote(ready[1] as string) };
    const command = COMMAND.exec(line);
    if (command)
      return { command: unquote(command[1] as string), stdin: '', marker: unquote(command[2] as string) };
    const start = HEREDOC.exec(line);
    if (!start) return undefined;
    this.heredoc = { command: unquote(start[1] as string), end: start[2] as string, body: [], closed: false };
    return 'more';
  }
}

/** Whether every single quote opened in `text` is closed again (outside quotes a backslash escapes one). */
function quotesClosed(text: string): boolean {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quoted && c === '\\') i++;
    else if (c === "'") quoted = !quoted;
  }
  return !quoted;
}

/**
 * `exec sh -s`: a shell reading lines from stdin, one command after another, each answered after the delay
 * like an exec request. It knows the line shapes the bot's shell session sends (src/ssh/shell-session.ts);
 * anything else ends the shell with a syntax error, as a real one would leave the session unusable.
 */
function serveShell(stream: ServerChannel, vm: FakeVm, delayMs: () => number): void {
  const reader = new ShellReader();
  let pending = '';
  let queue = Promise.resolve();
  let ended = false;
  const finish = (code: number) => {
    ended = true;
    stream.exit(code);
    stream.end();
  };
  const answer = (unit: ShellUnit) => {
    if (ended) return;
    const out =
      unit.command === undefined ? { stdout: '', stderr: '', code: 0 } : vm.exec(unit.command, unit.stdin);
    stream.write(`${out.stdout}\n${unit.marker} ${out.code}\n`);
    stream.stderr.write(`${out.stderr}\n${unit.marker}\n`);
  };
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      const unit = reader.line(line);
      if (unit === 'more') continue;
      if (unit === undefined) {
        queue = queue.then(() => {
          if (ended) return;
          stream.stderr.write(`sh: 1: Syntax error: ${line.slice(0, 40)}\n`);
          finish(2);
        });
        continue;
      }
      queue = queue
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, delayMs())))
        .then(() => answer(unit));
    }
  });
  stream.on('end', () => {
    void queue.then(() => {
      if (!ended) finish(0);
    });
  });
}

/** The runner's `/healthz` over a forwarded connection: one HTTP/1.1 answer, then the connection closes. */
function answerHealthz(channel: ServerChannel): void {
  let request = '';
  channel.on('data', (chunk: Buffer) => {
    request += chunk.toString('latin1');
    if (!request.includes('\r\n\r\n')) return;
    channel.end(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK',
    );
  });
  channel.on('error', () => undefined);
}

function serveSftp(sftp: SFTPWrapper, vm: FakeVm): void {
  const open = new Map<
    string,
    { path: string; mode: number; chunks: Array<{ offset: number; data: Buffer }> }
  >();
  let next = 0;
  sftp.on('OPEN', (reqId, filename, _flags, attrs) => {
    const handle = Buffer.from(String(next++));
    open.set(handle.toString(), { path: filename, mode: attrs?.mode ?? 0o644, chunks: [] });
    sftp.handle(reqId, handle);
  });
  sftp.on('FSETSTAT', (reqId, handle, attrs) => {
    const file = open.get(handle.toString());
    if (!file) return sftp.status(reqId, FAILURE);
    if (attrs.mode !== undefined) file.mode = attrs.mode;
    return sftp.status(reqId, OK);
  });
  sftp.on('WRITE', (reqId, handle, offset, data) => {
    const file = open.get(handle.toString());
    if (!file) return sftp.status(reqId, FAILURE);
    file.chunks.push({ offset, data: Buffer.from(data) });
    return sftp.status(reqId, OK);
  });
  sftp.on('CLOSE', (reqId, handle) => {
    const file = open.get(handle.toString());
    if (!file) return sftp.status(reqId, FAILURE);
    open.delete(handle.toString());
    const size = Math.max(0, ...file.chunks.map((c) => c.offset + c.data.length));
    const data = Buffer.alloc(size);
    for (const chunk of file.chunks) chunk.data.copy(data, chunk.offset);
    vm.writeFile(file.path, data, file.mode & 0o7777);
    return sftp.status(reqId, OK);
  });
  for (const event of [
    'READ',
    'FSTAT',
    'OPENDIR',
    'READDIR',
    'LSTAT',
    'STAT',
    'REMOVE',
    'RMDIR',
    'REALPATH',
    'READLINK',
    'SETSTAT',
    'MKDIR',
    'RENAME',
    'SYMLINK',
  ] as const) {
    sftp.on(event as 'STAT', (reqId: number) => sftp.status(reqId, OP_UNSUPPORTED));
  }
}
