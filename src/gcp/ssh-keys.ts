/**
 * Lets the bot's key in on a VM as GCE lets people in: a `user:key` line in the VM's `ssh-keys` metadata,
 * which the VM's guest agent turns into a user with passwordless sudo and that authorized key (what
 * `gcloud compute ssh` does). The instance's metadata, not the project's: it opens this VM only, and the
 * guest agent reads it whether or not the VM blocks project-wide keys. Every other item and line is kept,
 * and the write carries the metadata's fingerprint, so a change made meanwhile is never overwritten.
 * With OS Login on, the guest agent ignores metadata keys: nothing is written there, and the key goes to
 * OS Login instead (`osLogin`).
 * https://cloud.google.com/compute/docs/connect/add-ssh-keys#metadata
 */
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { GitspacesError } from '../errors.js';
import type { Clock, HostKey, KeyPlace } from '../setup/ports.js';
import type { InstancesApi, Metadata, MetadataApi, Operation } from './apis.js';
import { type CallPolicy, callGoogle, DEFAULT_CALL_POLICY, failedCall } from './call-policy.js';
import { computeClient } from './clients.js';
import { type ComputePermission, computeFailure, type VmCoordinates } from './compute-errors.js';
import { gcpError } from './fail.js';
import type { OsLoginKeys } from './os-login.js';

export interface MetadataKeysOptions {
  /** Defaults to the process-wide client for `config.gcp.computeApiUrl`. */
  client?: InstancesApi & MetadataApi;
  clock?: Clock;
  callPolicy?: CallPolicy;
  /** Between reads of the operation that sets the metadata. @defaultValue 1 s */
  operationPollMs?: number;
  /** How long the operation may take. @defaultValue 60 s */
  operationTimeoutMs?: number;
  /** Where the key goes on a VM with OS Login on. */
  osLogin: OsLoginKeys;
}

export interface MetadataKeys {
  /**
   * Adds `user`'s `key` to the VM's `ssh-keys` when `write` allows (`added`), unless a line for it is there
   * (`present`); on a VM with OS Login on, to OS Login (whose user may differ). Undefined: absent, not written.
   */
  add(vm: VmCoordinates, user: string, key: HostKey, write: boolean): Promise<KeyPlace | undefined>;
}

/** The comment of the line the bot adds, so a person reading the metadata knows whose it is. */
const KEY_COMMENT = 'gitspaces-bot';
const PLACE = "the VM's ssh-keys metadata";
/** Writes lost to a concurrent change, then read again: each retry re-reads the metadata first. */
const WRITES = 3;

const item = (metadata: Metadata | null | undefined, key: string) =>
  metadata?.items?.find((entry) => entry.key === key)?.value ?? undefined;

/** A metadata switch (`enable-oslogin`) as gcloud reads it: `true` in any case; undefined when not set. */
function enabled(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : value.trim().toLowerCase() === 'true';
}

/**
 * Whether `line` lets `user` in with `key`: `user:type base64 [comment]`, or Google's expiring form
 * `user:type base64 google-ssh {"userName":…,"expireOn":…}` while it has not expired.
 */
function letsIn(line: string, user: string, key: HostKey, now: number): boolean {
  const [name, rest] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)];
  const [type, base64, comment, ...json] = rest.trim().split(/\s+/);
  if (name !== user || type !== key.type || base64 !== key.base64) return false;
  if (comment !== 'google-ssh') return true;
  try {
    const expireOn = Date.parse((JSON.parse(json.join(' ')) as { expireOn?: string }).expireOn ?? '');
    return Number.isNaN(expireOn) || expireOn > now;
  } catch {
    return true; // as gcloud and the guest agent: an expiry that cannot be read does not expire
  }
}

/** The public line the bot adds for `user` (also shown in messages, for adding it by hand). */
export function keyLine(user: string, key: HostKey): string {
  return `${user}:${key.type} ${key.base64} ${KEY_COMMENT}`;
}

/** Every metadata item kept, `line` appended to `ssh-keys` (created when absent). */
function withLine(metadata: Metadata | null | undefined, line: string): Metadata {
  const items = [...(metadata?.items ?? [])].map(({ key, value }) => ({ key, value }));
  const at = items.findIndex((entry) => entry.key === 'ssh-keys');
  const lines = (at === -1 ? '' : (items[at]?.value ?? '')).split('\n').filter((l) => l.trim() !== '');
  const value = [...lines, line].join('\n');
  if (at === -1) items.push({ key: 'ssh-keys', value });
  else items[at] = { key: 'ssh-keys', value };
  return { fingerprint: metadata?.fingerprint ?? null, items };
}

function refusedWrite(thrown: unknown, vm: VmCoordinates, line: string): GitspacesError {
  const { failure } = failedCall(thrown);
  if (failure.status !== 'PERMISSION_DENIED')
    return computeFailure(thrown, 'compute.instances.setMetadata', vm);
  return gcpError(
    'SSH_AUTH_FAILED',
    `VM ${vm.name} refused the bot's key, and the bot may not add it to the VM's ssh-keys metadata (Google said: ${failure.message}).`,
    `Grant the bot's service account roles/compute.instanceAdmin.v1 on the VM (and roles/iam.serviceAccountUser on the VM's own service account, which changing its metadata also needs), or add this line to the VM's ssh-keys metadata yourself: ${line}`,
    { cause: thrown },
  );
}

type Call = <T>(permission: ComputePermission, vm: VmCoordinates, work: () => Promise<T>) => Promise<T>;

/**
 * OS Login switches whose `TRUE` shuts the bot out: it logs in with a plain key, and these VMs let in only
 * keys on a physical security key, or keys signed by OS Login's certificate authority (which ssh2 cannot present).
 */
const SHUT_OUT = {
  'enable-oslogin-sk': 'only keys held on a physical security key, which a service account cannot have',
  'enable-oslogin-certificates':
    "only keys signed by OS Login's certificate authority, which the bot's SSH client cannot present",
} as const;

/**
 * Whether OS Login is on, as the guest agent reads each switch: the instance's own value, else the project's.
 * Throws when it is on with a switch the bot cannot log in under. Those two are looked for in the project's
 * metadata only where it may be read: the login fails either way, the message only says more.
 */
async function osLoginOn(
  api: InstancesApi,
  call: Call,
  metadata: Metadata | null | undefined,
  vm: VmCoordinates,
): Promise<boolean> {
  let project: Promise<Metadata | null> | undefined;
  const projectMetadata = () => {
    project ??= call('compute.projects.get', vm, () => api.getProject({ project: vm.project })).then(
      ([p]) => p.commonInstanceMetadata ?? null,
    );
    return project;
  };
  const own = enabled(item(metadata, 'enable-oslogin'));
  if (!(own ?? enabled(item(await projectMetadata(), 'enable-oslogin')) === true)) return false;
  for (const [key, lets] of Object.entries(SHUT_OUT)) {
    const mine = enabled(item(metadata, key));
    const theirs = mine === undefined && enabled(item(await projectMetadata().catch(() => null), key));
    if (mine === true || theirs === true)
      throw gcpError(
        'SSH_AUTH_FAILED',
        `VM ${vm.name} has OS Login with ${key}=TRUE (${mine ? 'on the VM' : 'on its project'}): it lets in ${lets}, so the bot cannot log in.`,
        `Set ${key}=FALSE in the runner VM's own metadata, which wins over the project's: \`gcloud compute instances add-metadata ${vm.name} --zone ${vm.zone} --project ${vm.project} --metadata ${key}=FALSE\`.`,
      );
  }
  return true;
}

/** Resolves once the operation is DONE, read every `pollMs` for at most `timeoutMs`; throws what it failed with. */
async function finished(
  api: MetadataApi,
  call: Call,
  operation: Operation,
  vm: VmCoordinates,
  timing: { clock: Clock; pollMs: number; timeoutMs: number },
): Promise<void> {
  const { clock, pollMs, timeoutMs } = timing;
  const until = clock.now() + timeoutMs;
  let current = operation;
  while (current.status !== 'DONE') {
    if (clock.now() >= until)
      throw gcpError(
        'GCP_UNAVAILABLE',
        `Adding the bot's key to the metadata of VM ${vm.name} did not finish within ${timeoutMs / 1000} s (operation ${operation.name}).`,
        `Try again; \`gcloud compute operations describe ${operation.name} --zone ${vm.zone}\` shows where it stands.`,
        { retryable: true },
      );
    await clock.sleep(pollMs);
    const name = String(current.name ?? operation.name);
    [current] = await call('compute.zoneOperations.get', vm, () =>
      api.getZoneOperation({ project: vm.project, zone: vm.zone, operation: name }),
    );
  }
  const errors = current.error?.errors ?? [];
  if (errors.length > 0)
    throw gcpError(
      'GCP_UNAVAILABLE',
      `Google could not add the bot's key to the metadata of VM ${vm.name}: ${errors.map((e) => e.message ?? e.code).join('; ')}.`,
      'Try again, or add the key to its ssh-keys metadata yourself.',
      { retryable: true },
    );
}

export function createMetadataKeys(config: Pick<Config, 'gcp'>, options: MetadataKeysOptions): MetadataKeys {
  const policy = options.callPolicy ?? DEFAULT_CALL_POLICY;
  const clock = options.clock ?? systemClock;
  const timing = {
    clock,
    pollMs: options.operationPollMs ?? 1000,
    timeoutMs: options.operationTimeoutMs ?? 60_000,
  };
  let client = options.client;
  const api = async () => {
    client ??= await computeClient(config, policy.deadlineMs);
    return client;
  };
  const call: Call = async (permission, vm, work) => {
    try {
      return await callGoogle(work, policy);
    } catch (thrown) {
      throw computeFailure(thrown, permission, vm);
    }
  };

  return {
    async add(vm, user, key, write) {
      const line = keyLine(user, key);
      for (let attempt = 1; ; attempt++) {
        const compute = await api();
        const [instance] = await call('compute.instances.get', vm, () =>
          compute.get({ project: vm.project, zone: vm.zone, instance: vm.name }),
        );
        if (await osLoginOn(compute, call, instance.metadata, vm))
          return options.osLogin(vm.project, key, write);
        const now = clock.now();
        const lines = ['ssh-keys', 'sshKeys'].flatMap((k) => (item(instance.metadata, k) ?? '').split('\n'));
        if (lines.some((l) => letsIn(l, user, key, now))) return { how: 'present', user, place: PLACE };
        if (!write) return undefined;
        let operation: Operation;
        try {
          [operation] = await callGoogle(
            () =>
              compute.setMetadata({
                project: vm.project,
                zone: vm.zone,
                instance: vm.name,
                metadataResource: withLine(instance.metadata, line),
              }),
            policy,
          );
        } catch (thrown) {
          // Someone changed the metadata since it was read: read it again rather than overwrite theirs.
          if (failedCall(thrown).failure.reasons.includes('conditionNotMet') && attempt < WRITES) continue;
          throw refusedWrite(thrown, vm, line);
        }
        await finished(compute, call, operation, vm, timing);
        return { how: 'added', user, place: PLACE };
      }
    },
  };
}
