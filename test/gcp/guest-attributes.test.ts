/**
 * Whether a VM publishes host keys at all, as gcloud decides it: `enable-guest-attributes` in the
 * instance's metadata, else the project's; an organisation policy that forbids them (412 conditionNotMet).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { closeGoogleClients, computeClient } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import { ed25519HostKey, type FakeGoogle, manualClock, startFakeGoogle } from '../support/fake-google.js';
import { timedFailure } from '../support/google-failures.js';

const Z = 'us-central1-a';
const FAST = { deadlineMs: 5_000, retryDelaysMs: [200], budgetMs: 8_000 };
const key = ed25519HostKey();
let google: FakeGoogle;

function locate(project: string, name: string, delays: number[] = []) {
  const config = loadConfig({ GCP_ZONE: Z, COMPUTE_API_URL: google.url }, { dotEnv: false });
  return createComputeLocator(config, {
    clock: manualClock(),
    callPolicy: FAST,
    hostKeyRetryDelaysMs: delays,
  }).locate({ project, zone: undefined, name }, { address: 'internal', hostKeys: true });
}

const sent = (path: string) => google.requests.filter((r) => r.path === `/compute/v1/projects/${path}`);
const guestQueries = (project: string, name: string) =>
  sent(`${project}/zones/${Z}/instances/${name}/getGuestAttributes`).length;

beforeAll(async () => {
  google = await startFakeGoogle();
  google
    .addVm(`own-off/${Z}/vm-off`, { hostKeys: [key], metadata: { 'enable-guest-attributes': 'FALSE' } })
    .setProjectMetadata('project-off', { 'enable-guest-attributes': 'FALSE' })
    .addVm(`project-off/${Z}/vm-1`, { hostKeys: [key], metadata: {} })
    .addVm(`project-off/${Z}/vm-on`, { hostKeys: [key], metadata: { 'enable-guest-attributes': 'true' } })
    .addVm(`project-unset/${Z}/vm-1`, { hostKeys: [key], metadata: { 'startup-script': 'true' } })
    .setProjectMetadata('project-on', { 'enable-guest-attributes': 'TRUE' })
    .addVm(`project-on/${Z}/vm-1`, { hostKeys: [key], metadata: {} })
    .addVm(`project-hidden/${Z}/vm-1`, { metadata: {} })
    .fail(/^\/compute\/v1\/projects\/project-hidden$/, {
      status: 403,
      message: "Required 'compute.projects.get' permission for 'projects/project-hidden'",
    })
    .addVm(`org-policy/${Z}/vm-1`, { hostKeys: [key] })
    .fail('/org-policy/zones/us-central1-a/instances/vm-1/getGuestAttributes', {
      status: 412,
      message:
        "Constraint 'constraints/compute.disableGuestAttributesAccess' violated for project org-policy.",
      reason: 'conditionNotMet',
    });
  await computeClient(loadConfig({ COMPUTE_API_URL: google.url }, { dotEnv: false }), FAST.deadlineMs);
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

describe('guest attributes', () => {
  it('are off when the instance says so: the run hears it at once, with the command that turns them on', async () => {
    const { error } = await timedFailure(() => locate('own-off', 'vm-off', [6_000, 10_000]));
    expect(error.code).toBe('HOST_KEYS_UNPUBLISHED');
    expect(error.message).toContain(
      `Guest attributes are disabled on vm-off: gcloud compute instances add-metadata vm-off --zone ${Z} --metadata enable-guest-attributes=TRUE`,
    );
    expect(error.message).toContain('SSH_HOST_KEY_POLICY=known-hosts');
    expect(guestQueries('own-off', 'vm-off')).toBe(0);
    expect(sent('own-off')).toHaveLength(0);
  });

  it('follow the project’s metadata when the instance does not say, and are off when neither does', async () => {
    const off = await timedFailure(() => locate('project-off', 'vm-1', [6_000]));
    expect(off.error.message).toContain('Guest attributes are disabled on vm-1');
    expect(sent('project-off')).toHaveLength(1);
    const unset = await timedFailure(() => locate('project-unset', 'vm-1', [6_000]));
    expect(unset.error.message).toContain('Guest attributes are disabled on vm-1');
    expect(guestQueries('project-off', 'vm-1') + guestQueries('project-unset', 'vm-1')).toBe(0);
    const on = await locate('project-on', 'vm-1');
    expect(on.hostKeys).toEqual([key]);
  });

  it('of the instance win over the project’s', async () => {
    const found = await locate('project-off', 'vm-on');
    expect(found.hostKeys).toEqual([key]);
  });

  it('are asked for all the same when the project’s metadata may not be read, and the message says both ways out', async () => {
    const { error } = await timedFailure(() => locate('project-hidden', 'vm-1'));
    expect(error.code).toBe('HOST_KEYS_UNPUBLISHED');
    expect(guestQueries('project-hidden', 'vm-1')).toBe(1);
    expect(error.message).toContain('compute.projects.get');
    expect(error.message).toContain(
      `gcloud compute instances add-metadata vm-1 --zone ${Z} --metadata enable-guest-attributes=TRUE`,
    );
    expect(error.message).toContain('guest agent');
  });

  it('forbidden by an organisation policy (412 conditionNotMet) are reported as such, not as a wrong zone', async () => {
    const { error } = await timedFailure(() => locate('org-policy', 'vm-1', [6_000, 10_000]));
    expect(error.code).toBe('HOST_KEYS_UNPUBLISHED');
    expect(error.message).toContain('An organisation policy keeps VM vm-1');
    expect(error.message).toContain('constraints/compute.disableGuestAttributesAccess');
    expect(error.message).not.toContain('Check the project and zone');
    expect(guestQueries('org-policy', 'vm-1')).toBe(1);
  });
});
