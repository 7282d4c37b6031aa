/**
 * Lets the bot's key in on a VM with OS Login on, where keys in metadata count for nothing: the key goes
 * into the OS Login profile of the bot's own Google identity (its service account), and the bot logs in as
 * that profile's POSIX user (`sa_<id>` for a service account), as `gcloud compute ssh` does for whoever runs
 * it. Sudo on the VM comes from roles/compute.osAdminLogin, which only an IAM admin can grant.
 * https://cloud.google.com/compute/docs/oslogin/manage-oslogin-in-an-org#service-account-access
 */
import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';
import type { HostKey, KeyPlace } from '../setup/ports.js';
import type { LoginProfile, OsLoginApi } from './apis.js';
import { botAuth, credentialsReason } from './bot-credentials.js';
import { type CallPolicy, callGoogle, DEFAULT_CALL_POLICY, failedCall } from './call-policy.js';
import { osLoginClient } from './clients.js';
import { gcpError } from './fail.js';

export interface OsLoginKeysOptions {
  /** Defaults to the process-wide client for `config.gcp.osLoginApiUrl`. */
  client?: OsLoginApi;
  /** The bot's Google identity; defaults to the `client_email` of its Application Default Credentials. */
  identity?: () => Promise<string>;
  callPolicy?: CallPolicy;
}

/**
 * Finds `key` in the OS Login profile of the bot's identity for VMs of `project`, importing it there when
 * absent and `write` allows. Undefined: absent, and not written.
 */
export type OsLoginKeys = (project: string, key: HostKey, write: boolean) => Promise<KeyPlace | undefined>;

const FIX_BY_HAND =
  "or add the public key of SSH_KEY_SECRET to an OS Login profile yourself (`gcloud compute os-login ssh-keys add --key-file=<key>.pub`) and set SSH_USER to that profile's POSIX username.";

/** The `client_email` of the bot's Application Default Credentials (a service account's, or the VM's). */
export function credentialsEmail(config: Pick<Config, 'gcp'>): () => Promise<string> {
  let email: Promise<string> | undefined;
  const lookUp = async () => {
    const auth = await botAuth(config);
    let found: string | undefined;
    try {
      found = (await auth.getCredentials()).client_email ?? undefined;
    } catch (error) {
      throw gcpError(
        'SSH_AUTH_FAILED',
        `The VM has OS Login on, and the bot found no Google identity whose OS Login profile could hold its key (${credentialsReason(error)}).`,
        `Run the bot as a service account (GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached one), ${FIX_BY_HAND}`,
        { cause: error },
      );
    }
    if (found === undefined)
      throw gcpError(
        'SSH_AUTH_FAILED',
        'The VM has OS Login on, and the bot runs with user credentials, which name no identity it could put its key under.',
        `Run the bot as a service account (GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached one), ${FIX_BY_HAND}`,
      );
    return found;
  };
  return () => {
    email ??= lookUp().catch((error: unknown) => {
      email = undefined;
      throw error;
    });
    return email;
  };
}

/** The profile's POSIX user for `project`: its primary account, else its first (gcloud's choice too). */
function posixUser(profile: LoginProfile | null | undefined, project: string): string | undefined {
  const accounts = (profile?.posixAccounts ?? []).filter(
    (account) => !account.accountId || account.accountId === project,
  );
  return (accounts.find((account) => account.primary) ?? accounts[0])?.username ?? undefined;
}

function holds(profile: LoginProfile | null | undefined, key: HostKey): boolean {
  return Object.values(profile?.sshPublicKeys ?? {}).some((entry) => {
    const [type, base64] = (entry.key ?? '').trim().split(/\s+/);
    return type === key.type && base64 === key.base64;
  });
}

function failure(thrown: unknown, email: string, doing: string): GitspacesError {
  if (thrown instanceof GitspacesError) return thrown;
  const { failure } = failedCall(thrown);
  const retryable = failure.status === 'UNAVAILABLE' || failure.status === 'RESOURCE_EXHAUSTED';
  return gcpError(
    retryable ? 'GCP_UNAVAILABLE' : 'SSH_AUTH_FAILED',
    `The VM has OS Login on, and OS Login refused ${doing} for ${email} (Google said: ${failure.message}).`,
    retryable
      ? 'The run is retried; if this persists, check network access to oslogin.googleapis.com (or OS_LOGIN_API_URL).'
      : `Enable the OS Login API (oslogin.googleapis.com) in the bot's project, ${FIX_BY_HAND}`,
    { cause: thrown, retryable },
  );
}

/**
 * With the key in the profile, what OS Login still checks at each login is IAM: a login role on the VM (sudo
 * comes with the admin one only) and, on a VM that runs as a service account, the right to act as it.
 */
const unauthorized = (email: string) =>
  `OS Login lets ${email} in only with roles/compute.osAdminLogin on the VM or its project (roles/compute.osLogin gives no sudo, which setup needs), and on a VM that runs as a service account roles/iam.serviceAccountUser on that account; a new grant can take a few minutes to apply.`;

export function createOsLoginKeys(
  config: Pick<Config, 'gcp'>,
  options: OsLoginKeysOptions = {},
): OsLoginKeys {
  const policy = options.callPolicy ?? DEFAULT_CALL_POLICY;
  const identity = options.identity ?? credentialsEmail(config);
  let client = options.client;
  return async (project, key, write) => {
    const email = await identity();
    client ??= await osLoginClient(config, policy.deadlineMs);
    const api = client;
    const name = `users/${email}`;
    let profile: LoginProfile;
    try {
      [profile] = await callGoogle(() => api.getLoginProfile({ name, projectId: project }), policy);
    } catch (thrown) {
      throw failure(thrown, email, 'reading the OS Login profile');
    }
    let how: KeyPlace['how'] = 'present';
    if (!holds(profile, key) || posixUser(profile, project) === undefined) {
      if (!write) return undefined;
      try {
        const [imported] = await callGoogle(
          () =>
            api.importSshPublicKey({
              parent: name,
              sshPublicKey: { key: `${key.type} ${key.base64}` },
              projectId: project,
            }),
          policy,
        );
        profile = imported.loginProfile ?? profile;
      } catch (thrown) {
        throw failure(thrown, email, 'adding the key to the OS Login profile');
      }
      how = 'added';
    }
    const user = posixUser(profile, project);
    if (user === undefined)
      throw gcpError(
        'SSH_AUTH_FAILED',
        `The VM has OS Login on, and the OS Login profile of ${email} has no POSIX account for project ${project}.`,
        `Give ${email} roles/compute.osAdminLogin on the runner VMs of project ${project}, ${FIX_BY_HAND}`,
      );
    return { how, user, place: `the OS Login profile of ${email}`, stillRefused: unauthorized(email) };
  };
}
