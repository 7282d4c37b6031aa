import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd } from '../sshd.js';
import { ENGINE_USER } from '../vm-users.js';

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

export interface VmLogin {
  port: number;
  user: string;
  knownHostsFile: string;
  privateKey: Buffer;
  /** Removes curl from the login session's PATH (sudo still finds the system's). */
  removeCurl(): void;
  restoreCurl(): void;
  stop(): Promise<void>;
}

/**
 * The VM's OpenSSH sshd: logging in as `gitspaces` (passwordless sudo, sudo's default secure_path) finds
 * DOCKER_HOST pointing at the tests' engine and no docker on its own PATH.
 */
export async function startVmLogin(dockerHost: string): Promise<VmLogin> {
  const dir = mkdtempSync(join(tmpdir(), 'gsb-vm-path-'));
  chmodSync(dir, 0o755);
  const bin = sessionBin(dir);
  const sshd = await startSshd({
    user: ENGINE_USER,
    dockerStandIn: false,
    sessionEnv: { PATH: bin, DOCKER_HOST: dockerHost },
  });
  return {
    port: sshd.port,
    user: sshd.user,
    knownHostsFile: sshd.knownHostsFile,
    privateKey: sshd.privateKey,
    removeCurl: () => rmSync(join(bin, 'curl'), { force: true }),
    restoreCurl() {
      if (!existsSync(join(bin, 'curl'))) symlinkSync('/usr/bin/curl', join(bin, 'curl'));
    },
    async stop() {
      await sshd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
