import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { checkGoogle } from '../../src/gcp/check.js';
import { closeGoogleClients } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import { createSecretManagerSource } from '../../src/gcp/secrets.js';
import { ed25519HostKey, type FakeGoogle, manualClock, startFakeGoogle } from '../support/fake-google.js';

let google: FakeGoogle;
const TOKEN = 'hx-token-never-printed';
const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

beforeAll(async () => {
  google = await startFakeGoogle();
  google
    .addSecret('acme-prod', 'pool', 'version: "1"\ninstances: []\n')
    .addSecret('acme-prod', 'token', { data: TOKEN, checksum: 'wrong' })
    .addSecret('acme-prod', 'ssh-key', KEY)
    .addVm('acme-prod/us-central1-a/runner-1', { internalIp: '10.128.0.7', hostKeys: [ed25519HostKey()] })
    .addVm('acme-prod/us-central1-a/fresh', {})
    .addVm('acme-prod/us-central1-a/closed', { metadata: { 'enable-guest-attributes': 'FALSE' } });
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

function setup(env: Record<string, string> = {}) {
  const config = loadConfig(
    {
      GCP_PROJECT: 'acme-prod',
      GCP_ZONE: 'us-central1-a',
      COMPUTE_API_URL: google.url,
      SECRET_MANAGER_API_URL: google.url,
      POOL_SECRET: 'pool',
      DELEGATE_TOKEN_SECRET: 'token',
      SSH_KEY_SECRET: 'ssh-key',
      ...env,
    },
    { dotEnv: false },
  );
  const deps = {
    secrets: createSecretManagerSource(config),
    vms: createComputeLocator(config, { clock: manualClock(), hostKeyRetryDelaysMs: [] }),
  };
  return { config, deps };
}

describe('checkGoogle', () => {
  it('reports each configured secret as readable or not, never with its value', async () => {
    const { config, deps } = setup({ RUNNER_SA_KEY_SECRET: 'projects/acme-prod/secrets/sa-key' });
    const rows = await checkGoogle(config, deps);
    expect(rows.map((r) => [r.check, r.ok])).toEqual([
      ['POOL_SECRET pool', true],
      ['DELEGATE_TOKEN_SECRET token', false],
      ['SSH_KEY_SECRET ssh-key', true],
      ['RUNNER_SA_KEY_SECRET projects/acme-prod/secrets/sa-key', false],
    ]);
    expect(rows[1]?.detail).toContain('CRC32C');
    expect(rows[3]?.detail).toContain('does not exist');
    expect(rows[3]?.fix).toContain('gcloud secrets create sa-key');
    const printed = JSON.stringify(rows);
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
  });

  it('reports whether the VM given can be found, with its address and published keys', async () => {
    const { config, deps } = setup();
    const [found] = (await checkGoogle(config, { ...deps, vm: 'runner-1' })).slice(-1);
    expect(found).toMatchObject({ check: 'VM runner-1', ok: true });
    expect(found?.detail).toContain('acme-prod/us-central1-a/runner-1 is RUNNING at 10.128.0.7');
    expect(found?.detail).toContain('1 host key(s) published (ssh-ed25519)');
  });

  it('shows the problem and the fix apart when the VM cannot be used', async () => {
    const { config, deps } = setup();
    const rows = await checkGoogle(config, { ...deps, vm: 'fresh' });
    const vm = rows.at(-1);
    expect(vm?.ok).toBe(false);
    expect(vm?.detail).toContain(
      'has guest attributes enabled but its guest agent has published no SSH host keys',
    );
    expect(vm?.fix).toContain('google-guest-agent');
    expect(google.guestAttributeRequests('acme-prod/us-central1-a/fresh')).toHaveLength(1);
    const closed = (await checkGoogle(config, { ...deps, vm: 'closed' })).at(-1);
    expect(closed?.detail).toBe(
      'Guest attributes are disabled on closed: gcloud compute instances add-metadata closed --zone us-central1-a --metadata enable-guest-attributes=TRUE --project acme-prod',
    );
    expect(closed?.fix).toContain('SSH_HOST_KEY_POLICY=known-hosts');
    expect(google.guestAttributeRequests('acme-prod/us-central1-a/closed')).toHaveLength(0);
    const missing = (await checkGoogle(config, { ...deps, vm: 'Not_A_VM' })).at(-1);
    expect(missing?.ok).toBe(false);
    expect(missing?.detail).toContain('is not a valid VM name');
  });
});
