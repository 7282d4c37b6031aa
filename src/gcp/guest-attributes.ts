import type { Instance, InstancesApi } from './apis.js';
import { type CallPolicy, callGoogle, failedCall } from './call-policy.js';
import { computeFailure, type VmCoordinates } from './compute-errors.js';
import { gcpError } from './fail.js';

type Metadata = Instance['metadata'];

/** A metadata value as the guest agent reads a boolean (Go's strconv.ParseBool). */
function flag(metadata: Metadata, key: string): boolean | undefined {
  const value = metadata?.items?.find((item) => item.key === key)?.value;
  if (value === undefined || value === null) return undefined;
  return /^(1|t|true)$/i.test(value.trim());
}

/**
 * Whether the VM has guest attributes on, as gcloud decides it: the instance's `enable-guest-attributes`
 * metadata, else the project's (https://cloud.google.com/compute/docs/metadata/manage-guest-attributes).
 * Undefined when the project's metadata may not be read (compute.projects.get is not granted): the keys
 * are then asked for all the same.
 */
export async function guestAttributesEnabled(
  api: InstancesApi,
  instance: Instance,
  vm: VmCoordinates,
  policy: CallPolicy,
): Promise<boolean | undefined> {
  const own = flag(instance.metadata, 'enable-guest-attributes');
  if (own !== undefined) return own;
  try {
    const [project] = await callGoogle(() => api.getProject({ project: vm.project }), policy);
    return flag(project.commonInstanceMetadata, 'enable-guest-attributes') ?? false;
  } catch (thrown) {
    if (failedCall(thrown).failure.status === 'PERMISSION_DENIED') return undefined;
    throw computeFailure(thrown, 'compute.projects.get', vm);
  }
}

const OTHER_PINS =
  'or pin the key another way: SSH_HOST_KEY_POLICY=known-hosts with SSH_KNOWN_HOSTS (or setup --host with --known-hosts), or SSH_HOST_KEY_POLICY=tofu.';

export function enableCommand(vm: VmCoordinates): string {
  return `gcloud compute instances add-metadata ${vm.name} --zone ${vm.zone} --metadata enable-guest-attributes=TRUE --project ${vm.project}`;
}

export function guestAttributesDisabled(vm: VmCoordinates) {
  return gcpError(
    'HOST_KEYS_UNPUBLISHED',
    `Guest attributes are disabled on ${vm.name}: ${enableCommand(vm)}`,
    `Run that command (the VM's guest agent then publishes its SSH host keys within a minute) and try again, ${OTHER_PINS}`,
  );
}

/** 412 conditionNotMet: the organisation policy constraint that turns guest attributes off. */
export function guestAttributesForbidden(vm: VmCoordinates, message: string) {
  return gcpError(
    'HOST_KEYS_UNPUBLISHED',
    `An organisation policy keeps VM ${vm.name} (project ${vm.project}, zone ${vm.zone}) from using guest attributes, so it publishes no SSH host keys to pin (Google said: ${message}).`,
    `Ask an organisation policy administrator to lift constraints/compute.disableGuestAttributesAccess for project ${vm.project}, ${OTHER_PINS}`,
  );
}

export function hostKeysUnpublished(vm: VmCoordinates, queries: number, enabled: boolean | undefined) {
  const where = `VM ${vm.name} (project ${vm.project}, zone ${vm.zone})`;
  const asked = `asked ${queries} time${queries === 1 ? '' : 's'}`;
  if (enabled === undefined) {
    return gcpError(
      'HOST_KEYS_UNPUBLISHED',
      `${where} has published no SSH host keys in its guest attributes (${asked}); whether guest attributes are on could not be read (the project's metadata needs compute.projects.get).`,
      `If they are off, enable them: ${enableCommand(vm)}; otherwise check that the VM's guest agent runs. Or ${OTHER_PINS.slice(3)}`,
    );
  }
  return gcpError(
    'HOST_KEYS_UNPUBLISHED',
    `${where} has guest attributes enabled but its guest agent has published no SSH host keys (${asked}).`,
    `Check that the guest agent runs on the VM (\`sudo systemctl status google-guest-agent\`, on its serial console) and run again, ${OTHER_PINS}`,
  );
}
