import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSecretSource } from '../../src/secrets/index.js';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import type { ExecOptions } from '../../src/setup/ports.js';
import { describeStatus } from '../../src/setup/probe.js';
import { Redactor } from '../../src/setup/redactor.js';
import { vmStatus } from '../../src/setup/status.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';

const OLD_DELEGATE = 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:25.03.85504';
const NEW_DELEGATE = 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:26.11.87100';

let vm: TestVm;
const containers = () => Object.values(vm.sshd.dockerState().containers ?? {});
const named = (name: string) => containers().filter((c) => c.name === name);
const images = () => Object.keys(vm.sshd.dockerState().images ?? {});
const running = (name: string) => named(name).filter((c) => c.status === 'running');

beforeAll(async () => {
  vm = await startTestVm();
});
afterAll(async () => {
  await vm?.stop();
});

async function setUp() {
  vm.resetDocker();
  vm.secrets.setPool(TEST_POOL);
  writeFileSync(vm.secrets.files.token, `${TEST_TOKEN}\n`);
  await vm.sshd.setDockerEnv({});
  const { result } = await vm.run();
  expect(result.state).toBe('succeeded');
}

const POOL_WITH_ARM = `${TEST_POOL}  - name: linux-arm64
    type: google
    pool: 1
    limit: 2
    platform:
      os: linux
      arch: arm64
    spec:
      account:
        project_id: acme-gitspaces
      machine_type: t2a-standard-4
      zone:
        - us-central1-a
`;

describe('a change to a VM that Gitspaces depend on', () => {
  beforeEach(setUp);

  it('waits for approval before the pool file and the runner, naming the instances that change', async () => {
    const runner = running('vm-runner')[0];
    const poolPath = join(vm.runnerDir, 'pool.yml');
    const before = readFileSync(poolPath, 'utf8');
    vm.secrets.setPool(POOL_WITH_ARM);
    const { result, events } = await vm.run({ decision: 'pending' });
    expect(result.state).toBe('awaiting-approval');
    expect(events.approvals[0]?.changes).toEqual(['vm-runner: pool file: instances added linux-arm64']);
    expect(events.started).not.toContain('pool-file');
    expect(events.started).not.toContain('runner');
    expect(readFileSync(poolPath, 'utf8')).toBe(before);
    expect(running('vm-runner')[0]?.id).toBe(runner?.id);
  });

  it('leaves the old containers running untouched when the change is rejected', async () => {
    const ids = containers().map((c) => `${c.name} ${c.id} ${c.status}`);
    const callsBefore = vm.sshd.calls().length;
    vm.secrets.setPool(POOL_WITH_ARM);
    writeFileSync(vm.secrets.files.token, 'b3RoZXItdG9rZW4tcm90YXRlZA==\n');
    const { result, events } = await vm.run({ decision: 'rejected' });
    expect(result).toMatchObject({ state: 'rejected', step: 'approval' });
    expect(events.approvals[0]?.changes).toEqual([
      'vm-runner: pool file: instances added linux-arm64',
      'vm-1-delegate: DELEGATE_TOKEN: rotated',
    ]);
    expect(containers().map((c) => `${c.name} ${c.id} ${c.status}`)).toEqual(ids);
    const changing = vm.sshd
      .calls()
      .slice(callsBefore)
      .filter((argv) => ['stop', 'rm', 'rename', 'run', 'start'].includes(argv[0] ?? ''));
    expect(changing).toEqual([]);
  });

  it('replaces a rotated token after approval, and the old token is left nowhere', async () => {
    const rotated = 'cm90YXRlZC1kZWxlZ2F0ZS10b2tlbi1uZXc9PQ==';
    writeFileSync(vm.secrets.files.token, `${rotated}\n`);
    const { result, events } = await vm.run();
    expect(result.state).toBe('succeeded');
    expect(events.approvals[0]?.changes).toEqual(['vm-1-delegate: DELEGATE_TOKEN: rotated']);
    expect(events.stateOf('delegate')).toBe('done');
    expect(named('vm-1-delegate')).toHaveLength(1);
    expect(running('vm-1-delegate')[0]?.env).toContain(`DELEGATE_TOKEN=${rotated}`);
    expect(named('vm-1-delegate-previous')).toEqual([]);
    // The new delegate runs the same image: it stays.
    expect(images()).toContain(OLD_DELEGATE);
    const stateText = JSON.stringify(vm.sshd.dockerState());
    expect(stateText).not.toContain(TEST_TOKEN);
    expect(events.all()).not.toContain(TEST_TOKEN);
    expect(events.all()).not.toContain(rotated);
    expect(JSON.stringify(vm.sshd.calls())).not.toContain(rotated);
    const stop = vm.sshd.calls().find((argv) => argv[0] === 'stop');
    expect(stop).toEqual(['stop', '-t', '600', 'vm-1-delegate']);
  });

  it('rolls an upgrade whose new delegate never gets healthy back to the old image, healthy', async () => {
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_UNHEALTHY: NEW_DELEGATE });
    const { result, events } = await vm.run({
      input: { kind: 'upgrade', upgrade: { delegate: NEW_DELEGATE } },
      settings: { delegateHealthTimeoutMs: 2_000 },
    });
    expect(result).toMatchObject({ state: 'failed', step: 'delegate-health' });
    expect(result.error?.message).toContain(`rolled back to ${OLD_DELEGATE} and is healthy again`);
    expect(events.approvals[0]?.changes?.[0]).toMatch(
      /^vm-1-delegate: image .*:25\.03\.85504 \(21 months old\) → .*:26\.11\.87100 \(1 month old\)$/,
    );
    expect(running('vm-1-delegate').map((c) => c.image)).toEqual([OLD_DELEGATE]);
    expect(named('vm-1-delegate-previous')).toEqual([]);
    expect(containers()).toHaveLength(2);
  });

  it('keeps what an upgrade chose when setup runs again', async () => {
    const up = await vm.run({ input: { kind: 'upgrade', upgrade: { delegate: NEW_DELEGATE } } });
    expect(up.result.state).toBe('succeeded');
    expect(running('vm-1-delegate').map((c) => c.image)).toEqual([NEW_DELEGATE]);
    // The old delegate's image goes with it once the new one is healthy: upgrades do not fill the disk.
    expect(images()).not.toContain(OLD_DELEGATE);
    expect(up.events.finished.find((r) => r.id === 'delegate-health')?.summary).toMatch(
      /removed vm-1-delegate-previous \(.*:25\.03\.85504\); removed its image \([\d.]+ MB freed\)/,
    );
    const again = await vm.run();
    expect(again.result).toMatchObject({ state: 'succeeded', unchanged: true });
    expect(running('vm-1-delegate').map((c) => c.image)).toEqual([NEW_DELEGATE]);
  });

  it('resumed after the worker stopped between the old delegate stopping and the new one starting, leaves one delegate running', async () => {
    const journal = memoryJournal();
    const lost = new AbortController();
    // The worker goes away right after the old delegate was set aside, before `docker run`.
    const connect: typeof connectSsh = async (options) => {
      const connected = await connectSsh(options);
      const exec = connected.remote.exec.bind(connected.remote);
      connected.remote.exec = async (cmd: string, opts?: ExecOptions) => {
        const result = await exec(cmd, opts);
        if (/rename\W+vm-1-delegate\W+vm-1-delegate-previous/.test(cmd)) lost.abort(new Error('killed'));
        return result;
      };
      return connected;
    };
    await expect(
      vm.run({
        journal,
        input: { kind: 'upgrade', upgrade: { delegate: NEW_DELEGATE } },
        deps: { connect, signal: lost.signal },
      }),
    ).rejects.toThrow();
    expect(running('vm-1-delegate')).toEqual([]);
    expect(named('vm-1-delegate-previous')).toHaveLength(1);
    const { result } = await vm.run({
      journal,
      input: { kind: 'upgrade', upgrade: { delegate: NEW_DELEGATE } },
    });
    expect(result.state).toBe('succeeded');
    expect(running('vm-1-delegate').map((c) => c.image)).toEqual([NEW_DELEGATE]);
    expect(named('vm-1-delegate-previous')).toEqual([]);
  });

  it('status tells the running delegate image age from the clock it is given', async () => {
    const status = await vmStatus(
      { kind: 'host', host: vm.sshd.host, port: vm.sshd.port, name: 'vm-1' },
      vm.settings(),
      { port: vm.sshd.port, address: 'internal' },
      {
        secrets: createSecretSource({ env: {} }),
        vms: undefined,
        connect: connectSsh,
        pinFor: async () => pinKeys(vm.sshd.hostKeys, 'the test sshd'),
        needsPublishedKeys: false,
        clock: { now: () => Date.UTC(2025, 11, 15), sleep: async () => undefined },
      },
      new Redactor(),
    );
    expect(describeStatus(status)).toContain(
      "warning: delegate 25.03.85504 is 9 months old: Harness ends support at 6 months and the image's life at 8 — `/gitspaces upgrade vm-1 delegate=<tag>` (the latest supported tag is in Harness under Account Settings → Delegates → Delegate version, or set HARNESS_API_KEY_SECRET and the bot asks Harness)",
    );
  });

  it('repairs a stopped delegate without asking again', async () => {
    vm.docker(['stop', 'vm-1-delegate']);
    const { result, events } = await vm.run({ decision: 'pending' });
    expect(result.state).toBe('succeeded');
    expect(events.approvals).toEqual([]);
    expect(running('vm-1-delegate')).toHaveLength(1);
  });
});
