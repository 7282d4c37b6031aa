import { GitspacesError } from '../errors.js';

/** What a setup run installs and how, resolved for one VM. */
export interface SetupSettings {
  /** The VM name: `{vm}` in DELEGATE_NAME and the name shown in messages. */
  vm: string;
  sshUser: string;
  runnerDir: string;
  dockerNetwork: string;
  runnerImage: string;
  delegateImage: string;
  delegateName: string;
  delegateTags: string;
  accountId: string;
  managerUrl: string;
  runnerHealthTimeoutMs: number;
  delegateHealthTimeoutMs: number;
  /** Where the runner answers `/healthz` on the VM. The runner publishes 3000 (`-p 3000:3000`). */
  runnerHealthPort: number;
  approvalTtlMs: number;
  /** `docker stop -t` before a running container is replaced; defaults 10m (delegate) and 1m (runner). */
  delegateStopTimeoutMs?: number;
  runnerStopTimeoutMs?: number;
  /** Images an upgrade chose, kept as a label on the container so that a later setup keeps them. */
  pinnedImages?: { runner?: boolean; delegate?: boolean };
  secretRefs: { pool: string; delegateToken: string; sshKey: string; runnerSaKey: string | undefined };
}

const DELEGATE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Tags are a comma-separated list; each a word of letters, digits, `-`, `_`, `.` or spaces. */
const TAGS = /^[A-Za-z0-9 _.-]*(,[A-Za-z0-9 _.-]*)*$/;
const IMAGE = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

export function checkDelegateName(name: string): string | undefined {
  return DELEGATE_NAME.test(name)
    ? undefined
    : `"${name.slice(0, 64)}" is not a delegate name: use 1-63 lowercase letters, digits and hyphens, starting with a letter or digit`;
}

export function checkTags(tags: string): string | undefined {
  return TAGS.test(tags) && tags.length <= 500
    ? undefined
    : 'Delegate tags must be a comma-separated list of words (letters, digits, spaces, "-", "_", "."), at most 500 characters';
}

/** Refuses settings that could not be passed safely to Docker (they come from config, the modal or a command). */
export function assertValidSettings(s: SetupSettings): void {
  const problems = [
    checkDelegateName(s.delegateName),
    checkTags(s.delegateTags),
    IMAGE.test(s.runnerImage) ? undefined : `RUNNER_IMAGE=${s.runnerImage} is not an image reference`,
    IMAGE.test(s.delegateImage) ? undefined : `DELEGATE_IMAGE=${s.delegateImage} is not an image reference`,
    /^[A-Za-z0-9_-]{1,64}$/.test(s.accountId)
      ? undefined
      : 'HARNESS_ACCOUNT_ID is missing or not an account id',
    /^https?:\/\/[^\s]+$/.test(s.managerUrl) ? undefined : `HARNESS_MANAGER_URL=${s.managerUrl} is not a URL`,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new GitspacesError('CONFIG_INVALID', problems.join('; '));
}

/** `{vm}` in DELEGATE_NAME becomes the VM name. */
export function delegateNameFor(template: string, vm: string): string {
  return template.replaceAll('{vm}', vm);
}
