import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { closeGoogleClients, NO_CREDENTIALS_TOKEN } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import type { VmRef } from '../../src/setup/ports.js';
import { codedError } from '../support/coded-error.js';
import { ed25519HostKey, type FakeGoogle, manualClock, startFakeGoogle } from '../support/fake-google.js';

let google: FakeGoogle;
const clock = manualClock();
const ed25519 = ed25519HostKey();
const second = ed25519HostKey();
const P = 'acme-prod';
const Z = 'us-central1-a';
const vm = (name: string): VmRef => ({ project: undefined, zone: undefined, name });
const both = { address: 'internal' as const, hostKeys: true };
/** Production's policy scaled down: retried failures end in well under a second on an idle machine. */
const FAST = { deadlineMs: 5_000, retryDelaysMs: [100, 200], budgetMs: 8_000 };

function locator(env: Record<string, string> = {}, delays?: number[]) {
  const config = loadConfig(
    { GCP_PROJECT: P, GCP_ZONE: Z, COMPUTE_API_URL: google.url, ...env },
    { dotEnv: false },
  );
  return createComputeLocator(config, {
    clock,
    callPolicy: FAST,
    ...(delays ? { hostKeyRetryDelaysMs: delays } : {}),
  });
}

beforeAll(async () => {
  google = await startFakeGoogle({ now: clock.now });
  google
    .addVm(`${P}/${Z}/runner-1`, {
      internalIp: '10.128.0.7',
      externalIp: '34.1.2.3',
      hostKeys: [ed25519, second],
    })
    .addVm(`other-proj/europe-west1-b/runner-2`, { internalIp: '10.132.0.9', hostKeys: [ed25519] })
    .addVm(`${P}/${Z}/stopped`, { status: 'TERMINATED', hostKeys: [ed25519] })
    .addVm(`${P}/${Z}/booting`, { hostKeys: [ed25519], hostKeysFromQuery: 3 })
    .addVm(`${P}/${Z}/no-agent`, {})
    .addVm(`${P}/${Z}/busy`, { hostKeys: [ed25519] })
    .addVm(`${P}/${Z}/secret-keys`, { hostKeys: [ed25519] })
    .addVm(`${P}/${Z}/denied`, {})
    .addVm(`${P}/${Z}/throttled`, {})
    .addVm(`${P}/${Z}/down`, {})
    .fail('/instances/denied', {
      status: 403,
      message: `Required 'compute.instances.get' permission for 'projects/${P}/zones/${Z}/instances/denied'`,
    })
    .fail('/instances/secret-keys/getGuestAttributes', {
      status: 403,
      message: "Required 'compute.instances.getGuestAttributes' permission",
    })
    .fail('/instances/throttled', { status: 429, message: "Quota exceeded for quota metric 'Read requests'" })
    .fail('/instances/down', { status: 503, message: 'Backend Error' });
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

describe('Compute VM locator', () => {
  it('finds a running VM by bare name with its internal address and every published host key', async () => {
    const found = await locator().locate(vm('runner-1'), both);
    expect(found).toEqual({
      project: P,
      zone: Z,
      name: 'runner-1',
      address: '10.128.0.7',
      hostKeys: [ed25519, second],
    });
  });

  it('uses the external address when asked, and the project and zone given in the reference', async () => {
    expect((await locator().locate(vm('runner-1'), { address: 'external', hostKeys: false })).address).toBe(
      '34.1.2.3',
    );
    const other = await locator().locate(
      { project: 'other-proj', zone: 'europe-west1-b', name: 'runner-2' },
      both,
    );
    expect(other.address).toBe('10.132.0.9');
  });

  it('asks through Google’s generated Compute client over REST, with no real credential', async () => {
    await locator().locate(vm('runner-1'), both);
    const sent = google.requests.filter((r) => r.path.startsWith('/compute/'));
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) {
      expect(request.apiClient).toMatch(/^gax\/\S+-fallback gapic\/\S+ gl-node\/\S+ rest\//);
      expect(request.authorization).toBe(`Bearer ${NO_CREDENTIALS_TOKEN}`);
    }
  });

  it('reads guest attributes once when the keys are there, and not at all when not needed', async () => {
    const before = google.guestAttributeRequests(`${P}/${Z}/runner-1`).length;
    await locator().locate(vm('runner-1'), both);
    expect(google.guestAttributeRequests(`${P}/${Z}/runner-1`).length).toBe(before + 1);
    const found = await locator().locate(vm('runner-1'), { address: 'internal', hostKeys: false });
    expect(found.hostKeys).toEqual([]);
    expect(google.guestAttributeRequests(`${P}/${Z}/runner-1`).length).toBe(before + 1);
  });

  it('says the VM is not found, naming VM, project and zone', async () => {
    const error = await codedError(locator().locate(vm('ghost'), both));
    expect(error.code).toBe('VM_NOT_FOUND');
    expect(error.message).toContain(`no VM named ghost in project ${P}, zone ${Z}`);
    expect(error.message).toContain('GCP_ZONE');
  });

  it('says which state a stopped VM is in and how to start it', async () => {
    const error = await codedError(locator().locate(vm('stopped'), both));
    expect(error.code).toBe('VM_NOT_RUNNING');
    expect(error.message).toContain('is TERMINATED');
    expect(error.message).toContain(`gcloud compute instances start stopped --project ${P} --zone ${Z}`);
  });

  it('refuses SSH_ADDRESS=external for a VM without an external address', async () => {
    const error = await codedError(
      locator().locate(
        { project: 'other-proj', zone: 'europe-west1-b', name: 'runner-2' },
        { address: 'external', hostKeys: false },
      ),
    );
    expect(error.code).toBe('VM_NO_ADDRESS');
    expect(error.message).toContain('no external IP address');
    expect(error.message).toContain('SSH_ADDRESS=internal');
  });

  it('names the missing permission and the project on 403', async () => {
    const get = await codedError(locator().locate(vm('denied'), both));
    expect(get.code).toBe('GCP_PERMISSION_DENIED');
    expect(get.message).toContain('compute.instances.get ');
    expect(get.message).toContain(`project ${P}`);
    const guest = await codedError(locator().locate(vm('secret-keys'), both));
    expect(guest.code).toBe('GCP_PERMISSION_DENIED');
    expect(guest.message).toContain('compute.instances.getGuestAttributes');
  });

  it('reports quota and outages as worth retrying', async () => {
    const quota = await codedError(locator().locate(vm('throttled'), both));
    expect(quota.code).toBe('GCP_QUOTA');
    expect(quota.retryable).toBe(true);
    const down = await codedError(locator().locate(vm('down'), both));
    expect(down.code).toBe('GCP_UNAVAILABLE');
    expect(down.retryable).toBe(true);
  });

  it('reports an unreachable Compute API as worth retrying', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await codedError(
      locator({ COMPUTE_API_URL: `http://127.0.0.1:${port}` }).locate(vm('runner-1'), both),
    );
    expect(error.code).toBe('GCP_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('waits for a booting VM to publish its host keys', async () => {
    const slept = clock.sleeps.length;
    const found = await locator({}, [6_000, 10_000, 15_000]).locate(vm('booting'), both);
    expect(found.hostKeys).toEqual([ed25519]);
    expect(clock.sleeps.slice(slept)).toEqual([6_000, 10_000]);
    expect(google.guestAttributeRequests(`${P}/${Z}/booting`).map((r) => r.query.queryPath)).toEqual([
      'hostkeys/',
      'hostkeys/',
      'hostkeys/',
    ]);
  });

  it('gives up after a bounded number of queries when the guest agent publishes nothing, saying what to check', async () => {
    const error = await codedError(
      locator({}, [6_000, 10_000, 15_000, 20_000, 30_000]).locate(vm('no-agent'), both),
    );
    expect(error.code).toBe('HOST_KEYS_UNPUBLISHED');
    expect(error.message).toContain(
      'has guest attributes enabled but its guest agent has published no SSH host keys',
    );
    expect(error.message).toContain('google-guest-agent');
    expect(error.message).toContain('SSH_HOST_KEY_POLICY=known-hosts');
    expect(error.message).toContain('SSH_HOST_KEY_POLICY=tofu');
    expect(google.guestAttributeRequests(`${P}/${Z}/no-agent`)).toHaveLength(6);
  });

  it('stays under 10 guest-attribute queries a minute per VM however often it is asked', async () => {
    const locate = locator();
    for (let i = 0; i < 25; i++) await locate.locate(vm('busy'), both);
    const statuses = google.guestAttributeRequests(`${P}/${Z}/busy`).map((r) => r.status);
    expect(statuses).toHaveLength(25);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('says what is missing when neither the reference nor the configuration names a zone', async () => {
    const config = loadConfig({ GCP_PROJECT: P, COMPUTE_API_URL: google.url }, { dotEnv: false });
    const error = await codedError(
      createComputeLocator(config, { clock, callPolicy: FAST }).locate(vm('runner-1'), both),
    );
    expect(error.code).toBe('VM_NAME_INVALID');
    expect(error.message).toContain('zone');
    expect(error.message).toContain('GCP_ZONE');
  });
});
