import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createEngineDeps } from '../../src/compose.js';
import { type Config, loadConfig } from '../../src/config.js';
import {
  closeGoogleClients,
  computeClient,
  NO_CREDENTIALS_TOKEN,
  secretManagerClient,
} from '../../src/gcp/clients.js';
import { runSetup } from '../../src/setup/engine.js';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import type { SetupSettings } from '../../src/setup/settings.js';
import { STEP_IDS } from '../../src/setup/step-ids.js';
import { parseVmRef } from '../../src/setup/vm-ref.js';
import { eventLog } from '../support/engine-events.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { ed25519HostKey, type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';

const P = 'acme-gitspaces';
const Z = 'us-central1-a';
let vm: TestVm;
let google: FakeGoogle;
let config: Config;

beforeAll(async () => {
  vm = await startTestVm();
  google = await startFakeGoogle();
  google
    // The "VM" is the test sshd on loopback; its host keys are what guest attributes publish.
    .addVm(`${P}/${Z}/runner-1`, { internalIp: '127.0.0.1', hostKeys: vm.sshd.hostKeys })
    .addVm(`${P}/${Z}/imposter`, { internalIp: '127.0.0.1', hostKeys: [ed25519HostKey()] })
    .addSecret(P, 'pool', TEST_POOL)
    .addSecret(P, 'delegate-token', `${TEST_TOKEN}\n`)
    .addSecret(P, 'ssh-key', vm.sshd.privateKey)
    .addSecret(P, 'corrupted-token', { data: `${TEST_TOKEN}\n`, checksum: 'wrong' });
  config = loadConfig(
    {
      GCP_PROJECT: P,
      GCP_ZONE: Z,
      COMPUTE_API_URL: google.url,
      SECRET_MANAGER_API_URL: google.url,
      POOL_SECRET: 'pool',
      DELEGATE_TOKEN_SECRET: 'delegate-token',
      SSH_KEY_SECRET: 'ssh-key',
      SSH_USER: vm.sshd.user,
      SSH_PORT: String(vm.sshd.port),
      HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    },
    { dotEnv: false },
  );
  // Google's packages take seconds to load on a busy machine: paid here, not inside a test's time.
  await Promise.all([computeClient(config), secretManagerClient(config)]);
});
afterAll(async () => {
  await closeGoogleClients();
  await google?.close();
  await vm?.stop();
});
beforeEach(() => vm.resetDocker());

/** A run started with nothing but a VM name: everything else comes from (the stand-in of) Google Cloud. */
async function runFor(name: string, refs: Partial<SetupSettings['secretRefs']> = {}) {
  const events = eventLog();
  const deps = createEngineDeps(config, {
    reporter: events.reporter,
    gate: { decide: async () => ({ kind: 'approved', by: 'U0APPROVER', at: Date.now() }) },
    journal: memoryJournal(),
    clock: { now: systemClock.now, sleep: (ms, signal) => systemClock.sleep(Math.min(ms, 50), signal) },
  });
  const settings = vm.settings({
    vm: name,
    delegateName: `${name}-delegate`,
    secretRefs: {
      pool: 'pool',
      delegateToken: 'delegate-token',
      sshKey: 'ssh-key',
      runnerSaKey: undefined,
      ...refs,
    },
  });
  const target = {
    kind: 'vm' as const,
    ref: parseVmRef(name, { project: config.gcp.project, zone: config.gcp.zone }),
  };
  const result = await runSetup(
    {
      runId: `run-${name}`,
      mode: 'setup',
      target,
      settings,
      sshPort: config.ssh.port,
      address: config.ssh.address,
    },
    deps,
  );
  return { result, events };
}

const guestQueries = (name: string) => google.guestAttributeRequests(`${P}/${Z}/${name}`).length;
const accepted = () => vm.sshd.log().split('Accepted publickey').length - 1;

describe('a run that finds everything in Google Cloud', () => {
  it('sets up the VM with its address, host keys, pool file, token and SSH key from the Google APIs', async () => {
    const before = guestQueries('runner-1');
    const logins = accepted();
    const { result, events } = await runFor('runner-1');
    expect(result.error).toBeUndefined();
    expect(result.state).toBe('succeeded');
    expect(result.steps.map((s) => s.id)).toEqual([...STEP_IDS]);
    expect(readFileSync(join(vm.runnerDir, 'pool.yml'), 'utf8')).toBe(TEST_POOL);
    const delegate = Object.values(vm.sshd.dockerState().containers).find(
      (c) => c.name === 'runner-1-delegate',
    );
    expect(delegate?.env).toContain(`DELEGATE_TOKEN=${TEST_TOKEN}`);
    expect(guestQueries('runner-1') - before).toBe(1);
    expect(accepted()).toBeGreaterThan(logins);
    const accessed = google.requests.filter((r) => r.path.endsWith(':access')).map((r) => r.path);
    expect(accessed).toEqual(
      expect.arrayContaining([
        `/v1/projects/${P}/secrets/pool/versions/latest:access`,
        `/v1/projects/${P}/secrets/delegate-token/versions/latest:access`,
        `/v1/projects/${P}/secrets/ssh-key/versions/latest:access`,
      ]),
    );
    expect(new Set(google.requests.map((r) => r.authorization))).toEqual(
      new Set([`Bearer ${NO_CREDENTIALS_TOKEN}`]),
    );
    expect(events.all()).not.toContain(TEST_TOKEN);
  });

  it('stops before any command when the VM offers a key other than the one guest attributes publish', async () => {
    const logins = accepted();
    const { result } = await runFor('imposter');
    expect(result.state).toBe('failed');
    expect(result.step).toBe('connect');
    expect(result.error?.code).toBe('HOST_KEY_MISMATCH');
    expect(result.error?.message).toContain('Nothing was run');
    expect(vm.sshd.calls()).toEqual([]);
    expect(accepted()).toBe(logins);
    expect(existsSync(join(vm.runnerDir, 'pool.yml'))).toBe(false);
  });

  it('stops in preflight, before touching the VM, when a secret fails its checksum', async () => {
    const logins = accepted();
    const { result, events } = await runFor('runner-1', { delegateToken: 'corrupted-token' });
    expect(result.state).toBe('failed');
    expect(result.step).toBe('preflight');
    expect(result.error?.code).toBe('SECRET_CHECKSUM');
    expect(result.error?.message).toContain('corrupted-token');
    expect(vm.sshd.calls()).toEqual([]);
    expect(accepted()).toBe(logins);
    expect(existsSync(join(vm.runnerDir, 'pool.yml'))).toBe(false);
    expect(events.all()).not.toContain(TEST_TOKEN);
  });
});
