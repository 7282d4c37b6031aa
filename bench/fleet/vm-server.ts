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
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          if (info.command === 'exec sh -s') return serveShell(stream, vm, () => delayMs);
          const out = vm.exec(info.command);
          setTimeout(() => {
            if (out.stdout !== '') stream.write(out.stdout);
            if (out.stderr !== '') stream.stderr.write(out.stderr);
            stream.exit(out.code);
            stream.end();
          }, delayMs);
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
const COMMAND = new RegExp(
  String.raw`^sh -c (${WORD}) </dev/null; printf '\\n%s %d\\n' (${WORD}) "\$\?"; printf '\\n%s\\n' ${WORD} >&2$`,
);

/**
 * `exec sh -s`: a shell reading lines from stdin, one after another, each answered after the delay like an
 * exec request. It knows the two line shapes the bot's shell session sends; anything else ends the shell
 * with a syntax error, as a real one would leave the session unusable.
 */
function serveShell(stream: ServerChannel, vm: FakeVm, delayMs: () => number): void {
  let pending = '';
  let queue = Promise.resolve();
  let ended = false;
  const answer = (line: string) => {
    if (ended) return;
    const ready = READY.exec(line);
    const command = ready ? undefined : COMMAND.exec(line);
    if (!ready && !command) {
      ended = true;
      stream.stderr.write(`sh: 1: Syntax error: ${line.slice(0, 40)}\n`);
      stream.exit(2);
      stream.end();
      return;
    }
    const out = command ? vm.exec(unquote(command[1] as string)) : { stdout: '', stderr: '', code: 0 };
    const marker = unquote((ready?.[1] ?? command?.[2]) as string);
    stream.write(`${out.stdout}\n${marker} ${out.code}\n`);
    stream.stderr.write(`${out.stderr}\n${marker}\n`);
  };
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      queue = queue
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, delayMs())))
        .then(() => answer(line));
    }
  });
  stream.on('end', () => {
    void queue.then(() => {
      if (ended) return;
      ended = true;
      stream.exit(0);
      stream.end();
    });
  });
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
