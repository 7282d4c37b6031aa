import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { Clock, LocatedVm, VmLocator, VmRef } from '../setup/ports.js';
import type { Instance, InstancesApi } from './apis.js';
import { type CallPolicy, callGoogle, DEFAULT_CALL_POLICY } from './call-policy.js';
import { computeClient } from './clients.js';
import { computeFailure, type VmCoordinates } from './compute-errors.js';
import { gcpError } from './fail.js';
import { DEFAULT_HOST_KEY_DELAYS_MS, readPublishedHostKeys } from './host-keys.js';
import { QueryWindow } from './query-window.js';

export interface ComputeLocatorOptions {
  /** Defaults to the process-wide client for `config.gcp.computeApiUrl`. */
  client?: InstancesApi;
  clock?: Clock;
  /** Waits between guest-attribute queries while a VM has published no host keys; `[]` asks once. */
  hostKeyRetryDelaysMs?: readonly number[];
  /** Deadline and retries of each Compute API call (tests shorten them). */
  callPolicy?: CallPolicy;
}

function coordinates(ref: VmRef, config: Pick<Config, 'gcp'>): VmCoordinates {
  const project = ref.project ?? config.gcp.project;
  const zone = ref.zone ?? config.gcp.zone;
  if (project === undefined || zone === undefined) {
    const missing = [project === undefined ? 'project' : undefined, zone === undefined ? 'zone' : undefined];
    throw gcpError(
      'VM_NAME_INVALID',
      `The ${missing.filter(Boolean).join(' and ')} of VM ${ref.name} is not known.`,
      'Set GCP_PROJECT and GCP_ZONE, or give the VM as zone/vm or project/zone/vm.',
    );
  }
  return { project, zone, name: ref.name };
}

function command(verb: string, vm: VmCoordinates): string {
  return `\`gcloud compute instances ${verb} ${vm.name} --project ${vm.project} --zone ${vm.zone}\``;
}

/** https://cloud.google.com/compute/docs/instances/instance-life-cycle */
function assertRunning(instance: Instance, vm: VmCoordinates): void {
  const status = instance.status ?? 'UNKNOWN';
  if (status === 'RUNNING') return;
  const state = `VM ${vm.name} (project ${vm.project}, zone ${vm.zone}) is ${status}, not RUNNING.`;
  const fix: Record<string, [string, boolean]> = {
    TERMINATED: [`Start it with ${command('start', vm)}, then run setup again.`, false],
    STOPPED: [`Start it with ${command('start', vm)}, then run setup again.`, false],
    SUSPENDED: [`Resume it with ${command('resume', vm)}, then run setup again.`, false],
    STOPPING: [
      `Wait until it has stopped, start it with ${command('start', vm)}, then run setup again.`,
      false,
    ],
    SUSPENDING: [
      `Wait until it is suspended, resume it with ${command('resume', vm)}, then run setup again.`,
      false,
    ],
    PROVISIONING: ['It is still starting: the run is retried shortly.', true],
    STAGING: ['It is still starting: the run is retried shortly.', true],
    REPAIRING: ['Google is repairing it: the run is retried shortly.', true],
  };
  const [text, retryable] = fix[status] ?? [
    `Bring it to RUNNING (${command('describe', vm)} shows why it is not).`,
    false,
  ];
  throw gcpError('VM_NOT_RUNNING', state, text, { retryable });
}

function addressOf(instance: Instance, vm: VmCoordinates, kind: 'internal' | 'external'): string {
  const nic = instance.networkInterfaces?.[0];
  const address = kind === 'internal' ? nic?.networkIP : nic?.accessConfigs?.[0]?.natIP;
  if (address) return address;
  const where = `VM ${vm.name} (project ${vm.project}, zone ${vm.zone})`;
  if (kind === 'external') {
    throw gcpError(
      'VM_NO_ADDRESS',
      `${where} has no external IP address on its first network interface, and SSH_ADDRESS=external asks for one.`,
      `Set SSH_ADDRESS=internal when the bot can reach the VM's network, or keep the VM without one and reach it through IAP (SSH_ADDRESS=internal, SSH_IAP=true; see the README), or give it an external address with ${command('add-access-config', vm)}.`,
    );
  }
  throw gcpError(
    'VM_NO_ADDRESS',
    `${where} has no internal IP address on its first network interface.`,
    `Check its network interfaces with ${command('describe', vm)}.`,
  );
}

/** Finds VMs with the Compute API: state, address and the host keys published in guest attributes. */
export function createComputeLocator(
  config: Pick<Config, 'gcp'>,
  options: ComputeLocatorOptions = {},
): VmLocator {
  const clock = options.clock ?? systemClock;
  const window = new QueryWindow(clock);
  const delaysMs = options.hostKeyRetryDelaysMs ?? DEFAULT_HOST_KEY_DELAYS_MS;
  const policy = options.callPolicy ?? DEFAULT_CALL_POLICY;
  let client = options.client;
  return {
    async locate(ref, wanted): Promise<LocatedVm> {
      const vm = coordinates(ref, config);
      client ??= await computeClient(config, policy.deadlineMs);
      const api = client;
      let instance: Instance;
      try {
        [instance] = await callGoogle(
          () => api.get({ project: vm.project, zone: vm.zone, instance: vm.name }),
          policy,
        );
      } catch (thrown) {
        throw computeFailure(thrown, 'compute.instances.get', vm);
      }
      assertRunning(instance, vm);
      const address = addressOf(instance, vm, wanted.address);
      const hostKeys = wanted.hostKeys
        ? await readPublishedHostKeys(api, instance, vm, { clock, window, delaysMs, policy })
        : [];
      return { ...vm, address, hostKeys };
    },
  };
}
