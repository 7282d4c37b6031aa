import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VM_USER = 'gitspaces';
const SUDOERS = `/etc/sudoers.d/${VM_USER}`;

/** The default SSH_USER as on a GCE VM: a normal user with passwordless sudo that keeps DOCKER_HOST. */
function ensureUser(): void {
  if (spawnSync('id', ['-u', VM_USER]).status !== 0)
    spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', VM_USER], { stdio: 'ignore' });
  if (spawnSync('id', ['-u', VM_USER]).status !== 0) throw new Error(`could not create the user ${VM_USER}`);
  // useradd leaves the account locked ("!"), which sshd refuses even for keys: no password, but not locked.
  if (/^[^:]+:!/.test(spawnSync('getent', ['shadow', VM_USER], { encoding: 'utf8' }).stdout))
    execFileSync('usermod', ['-p', '*', VM_USER]);
  const rules = `${VM_USER} ALL=(ALL:ALL) NOPASSWD: ALL\nDefaults:${VM_USER} env_keep += "DOCKER_HOST"\n`;
  if (!existsSync(SUDOERS) || readFileSync(SUDOERS, 'utf8') !== rules) {
    const draft = `${SUDOERS}.draft`;
    writeFileSync(draft, rules, { mode: 0o440 });
    execFileSync('visudo', ['-cqf', draft]);
    execFileSync('mv', [draft, SUDOERS]);
  }
}

/**
 * The session's PATH: every command of the machine except Docker's and curl, as on a VM where the login user
 * has no docker (the socket is root's anyway). `curl` is a link of its own so a test can take it away.
 */
function sessionBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const from of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!existsSync(from)) continue;
    for (const name of readdirSync(from)) {
      if (/^(docker|dockerd|containerd|curl)/.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(from, name), join(bin, name));
    }
  }
  symlinkSync('/usr/bin/curl', join(bin, 'curl'));
  return bin;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface VmLogin {
  port: number;
  user: string;
  knownHostsFile: string;
  privateKeyFile: string;
  /** Removes curl from the login session's PATH (sudo still finds the system's). */
  removeCurl(): void;
  restoreCurl(): void;
  stop(): Promise<void>;
}

/** A real OpenSSH sshd on loopback; logging in as `gitspaces` finds DOCKER_HOST set to the test engine. */
export async function startVmLogin(dockerHost: string): Promise<VmLogin> {
  ensureUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'gsb-vm-'));
  chmodSync(dir, 0o755);
  const keygen = (args: string[]) => execFileSync('ssh-keygen', ['-q', '-N', '', '-C', '', ...args]);
  keygen(['-t', 'ed25519', '-f', join(dir, 'host_key')]);
  keygen(['-t', 'ed25519', '-f', join(dir, 'id_ed25519')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
  const bin = sessionBin(dir);
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `AllowUsers ${VM_USER}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      // As Debian's own sshd_config has it: the bot uploads files over SFTP.
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      `SetEnv "PATH=${bin}" "DOCKER_HOST=${dockerHost}"`,
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-20_000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await listening(child, () => log);
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ');
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKey[0]} ${hostKey[1]}\n`);
  return {
    port,
    user: VM_USER,
    knownHostsFile,
    privateKeyFile: join(dir, 'id_ed25519'),
    removeCurl: () => rmSync(join(bin, 'curl'), { force: true }),
    restoreCurl() {
      if (!existsSync(join(bin, 'curl'))) symlinkSync('/usr/bin/curl', join(bin, 'curl'));
    },
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

function listening(child: ChildProcess, log: () => string): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setInterval(() => {
      if (log().includes('Server listening on')) done(ok);
      else if (child.exitCode !== null) done(() => fail(new Error(`sshd exited: ${log()}`)));
    }, 50);
    const stop = setTimeout(() => done(() => fail(new Error(`sshd did not listen: ${log()}`))), 15_000);
    const done = (then: () => void) => {
      clearInterval(timer);
      clearTimeout(stop);
      then();
    };
  });
}
