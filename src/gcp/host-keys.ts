import type { protos } from '@google-cloud/compute';
import type { Clock, HostKey } from '../setup/ports.js';
import { type ComputePermission, computeFailure, type VmCoordinates } from './compute-errors.js';
import { gcpError } from './fail.js';
import { describeGoogleError } from './google-error.js';
import type { QueryWindow } from './query-window.js';

type GuestAttributes = protos.google.cloud.compute.v1.IGuestAttributes;

export interface GuestAttributesApi {
  getGuestAttributes(request: {
    project: string;
    zone: string;
    instance: string;
    queryPath: string;
  }): Promise<[GuestAttributes, ...unknown[]]>;
}

export interface HostKeyPolling {
  clock: Clock;
  window: QueryWindow;
  /** Waits between queries while the VM has published no keys yet; one query more than delays. */
  delaysMs: readonly number[];
}

/**
 * From a fresh boot the guest agent needs a little while to publish the keys; these waits cover about a
 * minute and a half in six queries, well under the 10 queries a minute a VM allows.
 */
export const DEFAULT_HOST_KEY_DELAYS_MS: readonly number[] = [6_000, 10_000, 15_000, 20_000, 30_000];

const PERMISSION: ComputePermission = 'compute.instances.getGuestAttributes';

/** The key type inside an SSH public key blob: its first length-prefixed string (RFC 4253 §6.6). */
function blobType(base64: string): string | undefined {
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 8) return undefined;
  const length = blob.readUInt32BE(0);
  return length > 0 && 4 + length < blob.length ? blob.subarray(4, 4 + length).toString('latin1') : undefined;
}

/** The `hostkeys/` items as host keys; an item whose data is not a key of its stated type is refused. */
export function hostKeysFrom(attributes: GuestAttributes, vm: VmCoordinates): HostKey[] {
  const items = attributes.queryValue?.items ?? [];
  return items.map((item) => {
    const type = (item.key ?? '').trim();
    const base64 = (item.value ?? '').trim();
    if (type === '' || blobType(base64) !== type) {
      throw gcpError(
        'HOST_KEY_INVALID',
        `VM ${vm.name} publishes a host key "${type.slice(0, 40)}" in its guest attributes whose data is not an SSH ${type || 'public'} key.`,
        'Check what writes hostkeys/ on the VM (normally the Google guest agent), or pin the key with SSH_HOST_KEY_POLICY=known-hosts.',
      );
    }
    return { type, base64 };
  });
}

type Answer = { keys: HostKey[] } | { keys: undefined; disabled: boolean };

async function queryOnce(api: GuestAttributesApi, vm: VmCoordinates): Promise<Answer> {
  try {
    const [attributes] = await api.getGuestAttributes({
      project: vm.project,
      zone: vm.zone,
      instance: vm.name,
      queryPath: 'hostkeys/',
    });
    const keys = hostKeysFrom(attributes, vm);
    return keys.length > 0 ? { keys } : { keys: undefined, disabled: false };
  } catch (thrown) {
    const failure = describeGoogleError(thrown);
    // Nothing under hostkeys/ yet is a 404 for the query path, not for the VM (the VM was just read).
    if (failure.status === 'NOT_FOUND') return { keys: undefined, disabled: false };
    if (/guest attributes? (are|is) (not enabled|disabled)/i.test(failure.message)) {
      return { keys: undefined, disabled: true };
    }
    throw computeFailure(thrown, PERMISSION, vm);
  }
}

function unpublished(vm: VmCoordinates, queries: number, disabled: boolean) {
  const state = disabled
    ? `VM ${vm.name} (project ${vm.project}, zone ${vm.zone}) has guest attributes disabled, so it publishes no SSH host keys to pin.`
    : `VM ${vm.name} (project ${vm.project}, zone ${vm.zone}) has published no SSH host keys in its guest attributes (asked ${queries} time${queries === 1 ? '' : 's'}).`;
  return gcpError(
    'HOST_KEYS_UNPUBLISHED',
    state,
    `Enable guest attributes with \`gcloud compute instances add-metadata ${vm.name} --project ${vm.project} --zone ${vm.zone} --metadata enable-guest-attributes=TRUE\` (the guest agent then publishes the keys within a minute), or pin the key another way: SSH_HOST_KEY_POLICY=known-hosts with SSH_KNOWN_HOSTS, or SSH_HOST_KEY_POLICY=tofu.`,
  );
}

/** Every host key the VM publishes, waiting a bounded time for a booting VM's guest agent to publish them. */
export async function readPublishedHostKeys(
  api: GuestAttributesApi,
  vm: VmCoordinates,
  polling: HostKeyPolling,
): Promise<HostKey[]> {
  const windowKey = `${vm.project}/${vm.zone}/${vm.name}`;
  for (let query = 1; ; query++) {
    await polling.window.take(windowKey);
    const answer = await queryOnce(api, vm);
    if (answer.keys) return answer.keys;
    const delay = polling.delaysMs[query - 1];
    if (answer.disabled || delay === undefined) throw unpublished(vm, query, answer.disabled);
    await polling.clock.sleep(delay);
  }
}
