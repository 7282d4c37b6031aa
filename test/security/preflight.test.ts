/**
 * Runs that must stop before anything is written to the VM, driven from Slack through the worker with the
 * product's own Google clients (a Compute and Secret Manager stand-in behind COMPUTE_API_URL and
 * SECRET_MANAGER_API_URL): a malformed pool.yaml, a missing or unreadable secret, an SSH key secret that
 * holds no private key, a stopped or missing VM, and a VM offering another host key than it publishes.
 * Each ends at the step that found it, says why in the thread, and leaves the VM as it was: no docker
 * call, no file, not even an SSH login.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeGoogleClients } from '../../src/gcp/clients.js';
import { ed25519HostKey, type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { FaultBot } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, type FleetVm, startFleet } from '../support/fault-fleet.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';

const P = 'acme-gitspaces';
const Z = 'us-central1-a';
let fleet: Fleet;
let vm: FleetVm;
let google: FakeGoogle;
let bot: FaultBot;
let stopped = 0;

beforeAll(async () => {
  fleet = await startFleet(['vm-1']);
  vm = fleet.vm('vm-1');
  google = await startFakeGoogle();
  google
    .addVm(`${P}/${Z}/vm-1`, { internalIp: '127.0.0.1', hostKeys: vm.hostKeys })
    .addVm(`${P}/${Z}/stopped-vm`, { internalIp: '127.0.0.1', hostKeys: vm.hostKeys, status: 'TERMINATED' })
    .addVm(`${P}/${Z}/imposter-vm`, { internalIp: '127.0.0.1', hostKeys: [ed25519HostKey()] });
  restoreSecrets();
  bot = await new FaultBot({
    fleet,
    engine: 'google',
    env: {
      GCP_PROJECT: P,
      GCP_ZONE: Z,
      COMPUTE_API_URL: google.url,
      SECRET_MANAGER_API_URL: google.url,
      POOL_SECRET: 'pool',
      DELEGATE_TOKEN_SECRET: 'delegate-token',
      SSH_KEY_SECRET: 'ssh-key',
      SSH_PORT: String(vm.sshd.port),
      RUNNER_DIR: vm.runnerDir,
    },
  }).open();
  await bot.startWorker();
}, 120_000);
afterAll(async () => {
  await recordFigures('preflight', { runsStoppedBeforeTheVm: stopped });
  await bot?.close();
  await closeGoogleClients();
  await google?.close();
  await fleet?.stop();
});

function restoreSecrets(): void {
  google
    .addSecret(P, 'pool', TEST_POOL)
    .addSecret(P, 'delegate-token', `${TEST_TOKEN}\n`)
    .addSecret(P, 'ssh-key', vm.sshd.privateKey);
}

beforeEach(() => {
  vm.reset();
  restoreSecrets();
});

const logins = () => vm.sshd.log().split('Accepted publickey').length - 1;

/** Starts a setup from Slack and waits for it to end; checks the VM was left exactly as it was. */
async function stoppedRun(vmName: string, step: 'preflight' | 'connect', code: string) {
  const loginsBefore = logins();
  await bot.command(`setup ${vmName}`);
  const runId = (await bot.runIdsFor([vmName])).get(vmName) as string;
  const run = await bot.finished(runId);
  expect(run.state).toBe(`failed:${step}`);
  expect(bot.truthProblems(run)).toEqual([]);
  const failure = bot.thread(run).find((m) => m.text.startsWith(`${step} failed:`));
  expect(JSON.stringify(failure?.blocks)).toContain(code);
  expect(bot.approvalRequests(run)).toEqual([]);
  // Nothing reached the VM: no command, no file, no login.
  expect(vm.sshd.calls()).toEqual([]);
  expect(existsSync(join(vm.runnerDir, 'pool.yml'))).toBe(false);
  expect(logins()).toBe(loginsBefore);
  // A run that cannot work is not retried.
  expect(run.audit.filter((e) => e.event === 'retry')).toEqual([]);
  stopped += 1;
  return { run, failure: failure?.text ?? '' };
}

describe('stopped before anything is written to the VM', () => {
  it('a malformed pool.yaml, with the line and column of the problem', async () => {
    google.addSecret(P, 'pool', 'version: "1"\ninstances:\n  - name: a\n    type: [google\n');
    const { failure } = await stoppedRun('vm-1', 'preflight', 'POOL_INVALID');
    expect(failure).toMatch(/line \d+, column \d+/);
  });

  it('a pool.yaml whose instances are not Google ones', async () => {
    google.addSecret(P, 'pool', TEST_POOL.replace('type: google', 'type: amazon'));
    const { failure } = await stoppedRun('vm-1', 'preflight', 'POOL_INVALID');
    expect(failure).toContain('amazon');
  });

  it('a missing secret, naming it', async () => {
    google.addSecret(P, 'delegate-token');
    const { failure } = await stoppedRun('vm-1', 'preflight', 'SECRET_NOT_FOUND');
    expect(failure).toContain('delegate-token');
  });

  it('a secret the bot may not read', async () => {
    google.fail('/secrets/ssh-key/', { status: 403, message: 'Permission denied on resource', times: 1 });
    const { failure } = await stoppedRun('vm-1', 'preflight', 'SECRET_PERMISSION_DENIED');
    expect(failure).toContain('ssh-key');
  });

  it('an SSH key secret that holds a public key', async () => {
    google.addSecret(P, 'ssh-key', `ssh-ed25519 ${vm.hostKeys[0]?.base64} someone@example\n`);
    const { failure } = await stoppedRun('vm-1', 'preflight', 'SECRET_UNREADABLE');
    expect(failure).toContain('not an SSH private key');
  });

  it('a stopped VM', async () => {
    const { failure } = await stoppedRun('stopped-vm', 'preflight', 'VM_NOT_RUNNING');
    expect(failure).toContain('TERMINATED');
  });

  it('a VM that does not exist', async () => {
    const { failure } = await stoppedRun('missing-vm', 'preflight', 'VM_NOT_FOUND');
    expect(failure).toContain('missing-vm');
  });

  it('a VM whose host key changed: refused during the handshake, with both fingerprints', async () => {
    const { failure, run } = await stoppedRun('imposter-vm', 'connect', 'HOST_KEY_MISMATCH');
    expect(failure).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(JSON.stringify(bot.finalReplies(run))).toContain('Nothing was run');
  });
});
