/**
 * The OS Login API as the fake Google server speaks it (Google's own servers cannot run here), in the REST
 * shapes its generated client sends in fallback mode, checked against real requests:
 *   GET /v1/users/{email}/loginProfile?projectId=…&$alt=json;enum-encoding=int            users.getLoginProfile
 *   POST /v1/users/{email}:importSshPublicKey?projectId=…&$alt=json;enum-encoding=int     users.importSshPublicKey
 * An identity's profile has no POSIX account until a first key is imported for a project (OS Login then
 * gives it its username); an identity the fake does not know is refused (403), as OS Login refuses a caller
 * another identity's profile.
 */
import { createHash } from 'node:crypto';

type Answer = [number, unknown, Record<string, string>?];
type Fail = (code: number, message: string) => Answer;

interface Identity {
  username: string;
  uid: number;
  /** Projects whose VMs it has a POSIX account for (made by its first import there). */
  projects: Set<string>;
  keys: Map<string, string>;
}

const PROFILE = /^\/v1\/users\/([^/:]+)\/loginProfile$/;
const IMPORT = /^\/v1\/users\/([^/:]+):importSshPublicKey$/;
const KEY = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+) [A-Za-z0-9+/]+=*( .*)?$/;

export class FakeOsLogin {
  private readonly identities = new Map<string, Identity>();

  /** A Google identity (the bot's service account) whose POSIX username on OS Login VMs is `username`. */
  addIdentity(email: string, username: string, uid = 1_001_000_001): this {
    this.identities.set(email, { username, uid, projects: new Set(), keys: new Map() });
    return this;
  }

  /** `key` put into `email`'s profile for `project` by someone else (`gcloud compute os-login ssh-keys add`). */
  addKey(email: string, key: string, project: string): this {
    const identity = this.identities.get(email);
    if (identity === undefined) throw new Error(`no identity ${email}`);
    identity.keys.set(createHash('sha256').update(key).digest('hex'), key);
    identity.projects.add(project);
    return this;
  }

  /** The keys OS Login lets in for the POSIX user `username` (what the VM's sshd asks it for). */
  keysOf(username: string): string[] {
    const identity = [...this.identities.values()].find((i) => i.username === username);
    return identity === undefined || identity.projects.size === 0 ? [] : [...identity.keys.values()];
  }

  /** Answers OS Login requests; undefined for any other path. */
  answer(
    req: { method: string; path: string; query: Record<string, string>; body: unknown },
    fail: Fail,
  ): Answer | undefined {
    const profile = PROFILE.exec(req.path);
    const imported = IMPORT.exec(req.path);
    if (!profile && !imported) return undefined;
    const email = (profile ?? imported)?.[1] as string;
    const identity = this.identities.get(email);
    if (!identity) return fail(403, 'The caller does not have permission');
    const project = req.query.projectId ?? '';
    if (profile) {
      if (req.method !== 'GET') return fail(405, `Method ${req.method} not allowed`);
      return [200, this.profile(email, identity, project)];
    }
    if (req.method !== 'POST') return fail(405, `Method ${req.method} not allowed`);
    const key = String((req.body as { key?: unknown } | undefined)?.key ?? '').trim();
    if (!KEY.test(key)) return fail(400, 'Invalid SSH key.');
    identity.keys.set(createHash('sha256').update(key).digest('hex'), key);
    if (project !== '') identity.projects.add(project);
    return [200, { loginProfile: this.profile(email, identity, project) }];
  }

  private profile(email: string, identity: Identity, project: string) {
    const posixAccounts = identity.projects.has(project)
      ? [
          {
            primary: true,
            username: identity.username,
            uid: String(identity.uid),
            gid: String(identity.uid),
            homeDirectory: `/home/${identity.username}`,
            shell: '/bin/bash',
            accountId: project,
            operatingSystemType: 'LINUX',
            name: `users/${email}/projects/${project}`,
          },
        ]
      : [];
    const sshPublicKeys = Object.fromEntries(
      [...identity.keys].map(([fingerprint, key]) => [
        fingerprint,
        { key, fingerprint, name: `users/${email}/sshPublicKeys/${fingerprint}` },
      ]),
    );
    return { name: email, posixAccounts, sshPublicKeys };
  }
}
