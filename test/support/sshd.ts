import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HostKey } from '../../src/setup/ports.js';
import { parsePublicKeyLine } from '../../src/ssh/host-key.js';
import {
  copyStandIn,
  emptyStateDir,
  type FakeDockerState,
  publishImage,
  readCalls,
  readDockerState,
} from './stand-in-files.js';
import { ensureVmUsers, idsOf, SIM_USER } from './vm-users.js';

export type { FakeDockerContainer, FakeDockerState } from './stand-in-files.js';
export { copyStandIn, STAND_IN_DIR } from './stand-in-files.js';

const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  host: '127.0.0.1';
  port: number;
  /** The login user: `gitspaces-sim` (a sudo user) when the tests run as root, else the current user. */
  user: string;
  /** A directory the login user owns, for files a test writes over SSH. */
  userDir: string;
  /** The stand-in's `docker` as copied for this sshd (readable by the login user), when it has one. */
  docker: string;
  privateKey: Buffer;
  /** The server's host keys (ed25519 and rsa). */
  hostKeys: HostKey[];
  hostKeyFiles: string[];
  /** `[127.0.0.1]:port type base64` lines for every host key. */
  knownHostsFile: string;
  dir: string;
  dockerStateDir: string;
  /** argv of every docker call made on the "VM", in order. */
  calls(): string[][];
  dockerState(): FakeDockerState;
  /** A bare engine again: no containers, networks, images or recorded calls. */
  resetDocker(): void;
  /** What the registry serves for `ref` from now on: new content (a new image id on pull), or none. */
  publishImage(ref: string, content: string | null): void;
  /** Sets the stand-in's knobs (FAKE_DOCKER_FAIL, …) for every docker call from now on (replacing earlier ones). */
  setDockerEnv(vars: Record<string, string>): Promise<void>;
  /** sshd's own log so far (it runs with -e). */
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Knobs for the Docker stand-in (FAKE_DOCKER_*), as setDockerEnv sets them later. */
  dockerEnv?: Record<string, string>;
  /** Who logs in; default `gitspaces-sim` as root (see vm-users.ts), else the current user. */
  user?: string;
  /** More SetEnv variables for every session (they win over the stand-in's PATH). */
  sessionEnv?: Record<string, string>;
  /** Put the Docker stand-in first on the session PATH (default true). */
  dockerStandIn?: boolean;
}

function keygen(args: string[]): void {
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', '', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** PerSourcePenalties (OpenSSH 9.8+) would lock loopback out after the tests' deliberate failures. */
function penaltiesOption(): string[] {
  const { stdout, stderr } = spawnSync(SSHD, ['-V'], { encoding: 'utf8' });
  const found = /OpenSSH_(\d+)\.(\d+)/.exec(`${stdout}${stderr}`);
  const [major, minor] = [Number(found?.[1] ?? 0), Number(found?.[2] ?? 0)];
  return major > 9 || (major === 9 && minor >= 8) ? ['PerSourcePenalties no'] : [];
}

function setEnvLine(vars: Record<string, string>): string {
  const parts = Object.entries(vars).map(([name, value]) => {
    if (/["\n]/.test(value) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new Error(`cannot SetEnv ${name}`);
    return `"${name}=${value}"`;
  });
  return `SetEnv ${parts.join(' ')}`;
}

/** The user the sessions run as, and what the stand-in must allow when that user is not root. */
function loginUser(options: SshdOptions): { user: string; dockerUsers: Record<string, string> } {
  const root = ensureVmUsers();
  if (root) return { user: options.user ?? SIM_USER, dockerUsers: {} };
  const me = userInfo().username;
  if (options.user !== undefined && options.user !== me)
    throw new Error(`only root can start an sshd that logs in as ${options.user}; the tests run as ${me}`);
  // Not root: the current user stands for a member of the docker group (see README, Tests).
  return { user: me, dockerUsers: { FAKE_DOCKER_USERS: String(process.getuid?.() ?? '') } };
}

/** Starts a real OpenSSH sshd on a free loopback port that lets a sudo user in, with the Docker stand-in. */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server`);
  const { user, dockerUsers } = loginUser(options);
  const ids = idsOf(user);
  if (!ids) throw new Error(`no Unix user ${user} on this machine`);
  // sshd's privilege separation needs its chroot directory when started as root.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'gsb-sshd-'));
  // sshd reads authorized_keys with the login user's rights; the stand-in's copy must be reachable too.
  chmodSync(dir, 0o755);
  const dockerStateDir = join(dir, 'docker');
  emptyStateDir(dockerStateDir);
  const standIn = options.dockerStandIn === false ? undefined : copyStandIn(dir);
  const userDir = join(dir, 'home');
  mkdirSync(userDir, { mode: 0o700 });
  if (process.getuid?.() === 0) chownSync(userDir, ids.uid, ids.gid);
  const hostKeyFiles = ['ed25519', 'rsa'].map((type) => join(dir, `ssh_host_${type}_key`));
  keygen(['-t', 'ed25519', '-f', hostKeyFiles[0]!]);
  keygen(['-t', 'rsa', '-b', '2048', '-f', hostKeyFiles[1]!]);
  keygen(['-t', 'ed25519', '-f', join(dir, 'id_ed25519')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')), { mode: 0o644 });
  const hostKeys = hostKeyFiles.map((file) => parsePublicKeyLine(readFileSync(`${file}.pub`, 'utf8')));
  const configFile = join(dir, 'sshd_config');
  const extra = penaltiesOption();
  // The stand-in reads its knobs from this file at every call: changing them needs no sshd reload.
  const knobsFile = join(dir, 'docker-knobs.json');
  const writeKnobs = (vars: Record<string, string>) => {
    writeFileSync(`${knobsFile}.new`, JSON.stringify(vars), { mode: 0o644 });
    renameSync(`${knobsFile}.new`, knobsFile);
  };
  writeKnobs({ ...options.dockerEnv });

  const writeConfig = (port: number) => {
    const standInEnv = standIn
      ? {
          PATH: `${standIn}:/usr/bin:/bin`,
          FAKE_DOCKER_STATE: dockerStateDir,
          FAKE_DOCKER_KNOBS: knobsFile,
          ...dockerUsers,
        }
      : {};
    const env = { ...standInEnv, ...options.sessionEnv };
    const lines = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...hostKeyFiles.map((file) => `HostKey ${file}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      'PermitRootLogin no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 100',
      'Subsystem sftp internal-sftp',
      ...extra,
      ...(Object.keys(env).length > 0 ? [setEnvLine(env)] : []),
    ];
    writeFileSync(configFile, `${lines.join('\n')}\n`);
  };

  const { child, port, output } = await launch(dir, writeConfig);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, hostKeys.map((k) => `[127.0.0.1]:${port} ${k.type} ${k.base64}\n`).join(''));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return {
    host: '127.0.0.1',
    port,
    user,
    userDir,
    docker: standIn ? join(standIn, 'docker') : '',
    privateKey: readFileSync(join(dir, 'id_ed25519')),
    hostKeys,
    hostKeyFiles,
    knownHostsFile,
    dir,
    dockerStateDir,
    calls: () => readCalls(dockerStateDir),
    dockerState: () => readDockerState(dockerStateDir),
    resetDocker: () => emptyStateDir(dockerStateDir),
    publishImage: (ref, content) => publishImage(dockerStateDir, ref, content),
    async setDockerEnv(vars) {
      writeKnobs(vars);
    },
    log: () => output.text,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Output {
  text: string;
}

const listening = (text: string) => text.split('Server listening on').length - 1;

async function launch(dir: string, writeConfig: (port: number) => void) {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    writeConfig(port);
    const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const output: Output = { text: '' };
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output.text = (output.text + chunk).slice(-65_536);
    });
    try {
      await waitFor(child, output, (text) => listening(text) > 0);
      return { child, port, output };
    } catch (error) {
      // Another process may have taken the port between probing and binding it.
      if (attempt < 5 && /Address already in use|Cannot bind/.test(output.text)) continue;
      throw error;
    }
  }
}

function waitFor(
  child: ChildProcess,
  output: Output,
  done: (text: string) => boolean,
  ms = 15_000,
): Promise<void> {
  return new Promise((ok, fail) => {
    const check = () => {
      if (done(output.text)) finish(ok);
    };
    const exited = () =>
      finish(() => fail(new Error(`sshd exited (${child.exitCode ?? child.signalCode}):\n${output.text}`)));
    const timer = setTimeout(
      () => finish(() => fail(new Error(`sshd did not start listening:\n${output.text}`))),
      ms,
    );
    const finish = (then: () => void) => {
      clearTimeout(timer);
      child.stderr?.off('data', check);
      child.off('exit', exited);
      then();
    };
    child.stderr?.on('data', check);
    child.once('exit', exited);
    if (child.exitCode !== null || child.signalCode !== null) exited();
    else check();
  });
}
