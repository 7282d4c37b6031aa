import type { Clock, HostKey } from '../setup/ports.js';
import type { GuestAttributes, GuestAttributesApi, Instance, InstancesApi } from './apis.js';
import { type CallPolicy, callGoogle, failedCall } from './call-policy.js';
import { type ComputePermission, computeFailure, type VmCoordinates } from './compute-errors.js';
import { gcpError } from './fail.js';
import {
  guestAttributesDisabled,
  guestAttributesEnabled,
  guestAttributesForbidden,
  hostKeysUnpublished,
} from './guest-attributes.js';
import type { QueryWindow } from './query-window.js';

export interface HostKeyPolling {
  clock: Clock;
  window: QueryWindow;
  /** Waits between queries while the VM has published no keys yet; one query more than delays. */
  delaysMs: readonly number[];
  policy: CallPolicy;
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

type Answer = { keys: HostKey[] } | { keys: undefined };

async function queryOnce(api: GuestAttributesApi, vm: VmCoordinates, policy: CallPolicy): Promise<Answer> {
  try {
    const [attributes] = await callGoogle(
      () =>
        api.getGuestAttributes({
          project: vm.project,
          zone: vm.zone,
          instance: vm.name,
          queryPath: 'hostkeys/',
        }),
      policy,
    );
    const keys = hostKeysFrom(attributes, vm);
    return keys.length > 0 ? { keys } : { keys: undefined };
  } catch (thrown) {
    const { failure } = failedCall(thrown);
    // "The resource 'hostkeys/' of type 'Guest Attribute' was not found.": nothing published yet (the VM
    // itself was just read, and its guest attributes are on).
    if (failure.status === 'NOT_FOUND') return { keys: undefined };
    if (failure.httpStatus === 412 || failure.reasons.includes('conditionNotMet')) {
      throw guestAttributesForbidden(vm, failure.message);
    }
    throw computeFailure(thrown, PERMISSION, vm);
  }
}

/**
 * Every host key the VM publishes. A VM whose metadata turns guest attributes off is told so at once;
 * otherwise a booting VM's guest agent is given a bounded time to publish them.
 */
export async function readPublishedHostKeys(
  api: InstancesApi,
  instance: Instance,
  vm: VmCoordinates,
  polling: HostKeyPolling,
): Promise<HostKey[]> {
  const enabled = await guestAttributesEnabled(api, instance, vm, polling.policy);
  if (enabled === false) throw guestAttributesDisabled(vm);
  const windowKey = `${vm.project}/${vm.zone}/${vm.name}`;
  for (let query = 1; ; query++) {
    await polling.window.take(windowKey);
    const answer = await queryOnce(api, vm, polling.policy);
    if (answer.keys) return answer.keys;
    const delay = polling.delaysMs[query - 1];
    if (delay === undefined) throw hostKeysUnpublished(vm, query, enabled);
    await polling.clock.sleep(delay);
  }
}
