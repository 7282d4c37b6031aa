/**
 * The Unix users the test VMs log in as, because GCE lets nobody SSH in as root and the bot must work as a
 * sudo user. When the tests run as root (CI does), they are created once per machine:
 * - `gitspaces`: passwordless sudo with sudo's default secure_path, keeping DOCKER_HOST (the real-engine tier,
 *   whose session PATH has no docker: only `sudo` finds the engine's client);
 * - `gitspaces-sim`: passwordless sudo that keeps the session's PATH and FAKE_DOCKER_* knobs, so that
 *   `sudo -n sh -c 'docker …'` finds the Docker stand-in of the fast tier;
 * - `gitspaces-nosudo`: no sudo rights at all (what `SUDO_REQUIRED` is for).
 * As another user nothing is created: the test sshd can only let its own user log in (see README).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ENGINE_USER = 'gitspaces';
export const SIM_USER = 'gitspaces-sim';
export const NOSUDO_USER = 'gitspaces-nosudo';
const USERS = [ENGINE_USER, SIM_USER, NOSUDO_USER];

const SUDOERS_FILE = '/etc/sudoers.d/gitspaces-tests';
export const SUDOERS = `# Users the gitspaces-bot tests log in as (test/support/vm-users.ts).
${ENGINE_USER} ALL=(ALL:ALL) NOPASSWD: ALL
Defaults:${ENGINE_USER} env_keep += "DOCKER_HOST"
${SIM_USER} ALL=(ALL:ALL) NOPASSWD: ALL
Defaults:${SIM_USER} !secure_path
Defaults:${SIM_USER} env_keep += "PATH FAKE_DOCKER_*"
`;

export const runningAsRoot = () => process.getuid?.() === 0;

export interface UnixIds {
  uid: number;
  gid: number;
}

export function idsOf(user: string): UnixIds | undefined {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** One creator at a time across vitest's workers (useradd itself fails while another holds /etc/passwd). */
function withMachineLock<T>(work: () => T): T {
  const lock = join(tmpdir(), 'gitspaces-test-users.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmdirSync(lock);
      } catch {}
      sleep(50);
    }
  }
  try {
    return work();
  } finally {
    rmdirSync(lock);
  }
}

/** `*` rather than useradd's locked `!`: sshd without PAM refuses a locked account even for key logins. */
function shadowField(user: string): string | undefined {
  const line = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  return line?.split(':')[1];
}

function ensureUser(user: string): void {
  if (!idsOf(user)) {
    const made = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', user], { encoding: 'utf8' });
    // 9: created meanwhile by a process outside our lock.
    if (made.status !== 0 && made.status !== 9) throw new Error(`useradd ${user} failed: ${made.stderr}`);
  }
  if (shadowField(user) !== '*') execFileSync('usermod', ['-p', '*', user]);
}

function ensureSudoers(): void {
  if (existsSync(SUDOERS_FILE) && readFileSync(SUDOERS_FILE, 'utf8') === SUDOERS) return;
  // sudo skips files whose names contain a dot: the draft is never live before visudo accepts it.
  const draft = `${SUDOERS_FILE}.draft`;
  writeFileSync(draft, SUDOERS, { mode: 0o440 });
  const check = spawnSync('visudo', ['-cf', draft], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`visudo refused ${draft}: ${check.stdout}${check.stderr}`);
  renameSync(draft, SUDOERS_FILE);
}

let ensured = false;

/**
 * Makes sure the test users exist (as root). Throws with the fix when sudo is missing. Returns false when
 * the tests do not run as root: then the only user a test sshd can log in is the current one.
 */
export function ensureVmUsers(): boolean {
  if (!runningAsRoot()) return false;
  if (ensured) return true;
  if (!existsSync('/usr/bin/sudo') || !existsSync('/usr/sbin/visudo'))
    throw new Error('sudo is missing: apt-get install sudo (bash .ci/run installs it)');
  withMachineLock(() => {
    for (const user of USERS) ensureUser(user);
    ensureSudoers();
  });
  ensured = true;
  return true;
}
