/**
 * A stand-in for GCE's guest agent on a test VM (its accounts manager; Google's agent cannot run here). As
 * the real one watches the metadata server, it watches the VM's metadata at the fake Compute API, and makes
 * the `ssh-keys` lines for the test sshd's login user that sshd's authorized keys, `delayMs` after they
 * change. Like the real agent it reads the instance's keys and, unless the instance blocks them, the
 * project's, and skips a key whose google-ssh expiry has passed. While OS Login is on, metadata keys count
 * for nothing: the user's keys are those its OS Login profile holds (the VM's sshd asks OS Login for them).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeGoogle } from './fake-google.js';
import type { TestSshd } from './sshd.js';

export interface GuestAgent {
  /** How many times it rewrote the authorized keys. */
  applied(): number;
  stop(): void;
}

const isTrue = (value: string | undefined) => value?.trim().toLowerCase() === 'true';

/** `type base64` of each unexpired line for `user`. */
function keysFor(user: string, value: string | undefined, now: number): string[] {
  return (value ?? '').split('\n').flatMap((line) => {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon) !== user) return [];
    const [type, base64, comment, ...json] = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (comment === 'google-ssh') {
      const expireOn = Date.parse(JSON.parse(json.join(' ')).expireOn);
      if (expireOn <= now) return [];
    }
    return [`${type} ${base64}`];
  });
}

export function startGuestAgent(
  google: FakeGoogle,
  ref: string,
  sshd: TestSshd,
  options: { delayMs?: number } = {},
): GuestAgent {
  const project = ref.split('/')[0] as string;
  const file = join(sshd.dir, 'authorized_keys');
  let seen: string | undefined;
  let applied = 0;
  let pending: NodeJS.Timeout | undefined;
  const look = () => {
    const own = google.metadataOf(ref);
    const shared = google.projectMetadataOf(project);
    const osLogin = isTrue(own['enable-oslogin'] ?? shared['enable-oslogin']);
    const now = Date.now();
    const lines = osLogin
      ? google.osLogin.keysOf(sshd.user)
      : [
          ...keysFor(sshd.user, own['ssh-keys'], now),
          ...(isTrue(own['block-project-ssh-keys']) ? [] : keysFor(sshd.user, shared['ssh-keys'], now)),
        ];
    const wanted = lines.map((line) => `${line}\n`).join('');
    if (wanted === seen) return;
    seen = wanted;
    clearTimeout(pending);
    pending = setTimeout(() => {
      writeFileSync(file, wanted, { mode: 0o644 });
      applied += 1;
    }, options.delayMs ?? 1500);
  };
  const timer = setInterval(look, 100);
  return {
    applied: () => applied,
    stop() {
      clearInterval(timer);
      clearTimeout(pending);
    },
  };
}
