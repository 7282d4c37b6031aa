import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import { STEP_IDS } from '../../src/setup/step-ids.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';

interface FakeContainer {
  name: string;
  image: string;
  status: string;
  env: string[];
  network: string;
  binds: string[];
  hostname: string;
  cmd: string[] | null;
  restart: { Name: string };
  labels: Record<string, string>;
  nanoCpus: number;
  memory: number;
}

let vm: TestVm;
const containers = (): FakeContainer[] =>
  Object.values(
    (vm.sshd.dockerState() as unknown as { containers?: Record<string, FakeContainer> }).containers ?? {},
  );
const container = (name: string) => containers().find((c) => c.name === name);
const dockerRuns = () => vm.sshd.calls().filter((argv) => argv[0] === 'run');

beforeAll(async () => {
  vm = await startTestVm();
});
afterAll(async () => {
  await vm?.stop();
});

describe('a setup run against a bare VM', () => {
  beforeEach(() => vm.resetDocker());

  it('brings up the runner and the delegate exactly as the Harness guide does', async () => {
    const { result, events } = await vm.run();
    expect(result.state).toBe('succeeded');
    expect(result.steps.map((s) => s.id)).toEqual([...STEP_IDS]);
    for (const id of [
      'pool-file',
      'network',
      'runner',
      'runner-health',
      'approval',
      'delegate',
      'delegate-health',
    ] as const) {
      expect(events.stateOf(id)).toBe('done');
    }
    const runner = container('vm-runner');
    expect(runner).toMatchObject({
      status: 'running',
      image: 'drone/drone-runner-aws:latest',
      network: 'harness',
      hostname: 'vm-runner',
    });
    expect(runner?.binds).toEqual([`${vm.runnerDir}:/runner`]);
    expect(runner?.cmd).toEqual(['delegate', '--pool', '/runner/pool.yml']);
    expect(runner?.restart.Name).toBe('unless-stopped');
    const delegate = container('vm-1-delegate');
    expect(delegate).toMatchObject({
      status: 'running',
      network: 'harness',
      nanoCpus: 1e9,
      memory: 2 * 1024 ** 3,
    });
    expect(delegate?.env).toEqual(
      expect.arrayContaining([
        'DELEGATE_NAME=vm-1-delegate',
        'DEPLOY_MODE=KUBERNETES_ONPREM',
        'NEXT_GEN=true',
        'DELEGATE_TYPE=DOCKER',
        'ACCOUNT_ID=XxRn14tYSUKILSe3XU0R8w',
        `DELEGATE_TOKEN=${TEST_TOKEN}`,
        'DELEGATE_TAGS=',
        'RUNNER_URL=http://vm-runner:3000/',
        'MANAGER_HOST_AND_PORT=https://app.harness.io',
      ]),
    );
    const pool = join(vm.runnerDir, 'pool.yml');
    expect(readFileSync(pool, 'utf8')).toBe(TEST_POOL);
    expect(statSync(pool).mode & 0o777).toBe(0o600);
    expect(events.approvals).toHaveLength(1);
  });

  it('changes nothing on a second run and says every step was already in place', async () => {
    await vm.run();
    const before = dockerRuns().length;
    const { result, events } = await vm.run();
    expect(result.state).toBe('succeeded');
    expect(result.unchanged).toBe(true);
    expect(result.steps.every((s) => s.state === 'unchanged')).toBe(true);
    expect(dockerRuns().length).toBe(before);
    expect(events.approvals).toHaveLength(0);
  });

  it('keeps the delegate token out of every argv on the VM and out of everything reported', async () => {
    const { events } = await vm.run();
    const argvText = JSON.stringify(vm.sshd.calls());
    const base64 = Buffer.from(TEST_TOKEN).toString('base64');
    for (const needle of [TEST_TOKEN, base64]) {
      expect(argvText).not.toContain(needle);
      expect(events.all()).not.toContain(needle);
    }
    const envFileArg = dockerRuns().find((argv) => argv.includes('--env-file'));
    const envFile = envFileArg?.[envFileArg.indexOf('--env-file') + 1] ?? '';
    expect(envFile).toMatch(/^\/tmp\/gitspaces-delegate\.run-test-[0-9a-f]{8}\.[A-Za-z0-9]{8}$/);
    expect(() => statSync(envFile)).toThrow();
    expect(envFile.startsWith(vm.runnerDir)).toBe(false);
  });

  it('stops at approval and installs no delegate when nobody decided yet', async () => {
    const journal = memoryJournal();
    const { result } = await vm.run({ decision: 'pending', journal });
    expect(result.state).toBe('awaiting-approval');
    expect(container('vm-runner')?.status).toBe('running');
    expect(container('vm-1-delegate')).toBeUndefined();
    const resumed = await vm.run({ journal });
    expect(resumed.result.state).toBe('succeeded');
    expect(resumed.events.approvals).toHaveLength(0);
    expect(resumed.events.started).not.toContain('runner');
    expect(container('vm-1-delegate')?.status).toBe('running');
  });

  it('ends as rejected, with no delegate, when an approver rejects', async () => {
    const { result } = await vm.run({ decision: 'rejected' });
    expect(result).toMatchObject({ state: 'rejected', step: 'approval' });
    expect(container('vm-1-delegate')).toBeUndefined();
  });

  it('plans without changing anything', async () => {
    const { result, events } = await vm.run({ mode: 'plan' });
    expect(result.state).toBe('succeeded');
    expect(
      vm.sshd.calls().some((argv) => ['run', 'rm', 'start'].includes(argv[0] ?? '') || argv[1] === 'create'),
    ).toBe(false);
    expect(events.stateOf('runner')).toBe('pending');
    expect(containers()).toHaveLength(0);
  });
});

describe('drift', () => {
  beforeAll(() => vm.resetDocker());

  it('recreates the runner when the pool file changed', async () => {
    await vm.run();
    vm.secrets.setPool(TEST_POOL.replace('limit: 4', 'limit: 8'));
    const { events } = await vm.run();
    vm.secrets.setPool(TEST_POOL);
    expect(events.stateOf('pool-file')).toBe('done');
    expect(events.stateOf('runner')).toBe('done');
    expect(containers().filter((c) => c.name === 'vm-runner')).toHaveLength(1);
    expect(readFileSync(join(vm.runnerDir, 'pool.yml'), 'utf8')).toContain('limit: 8');
  });

  it('recreates the delegate when its settings changed, and asks for approval again', async () => {
    const { events } = await vm.run({ settings: { delegateTags: 'gitspaces,gcp' } });
    expect(events.approvals).toHaveLength(1);
    expect(events.stateOf('delegate')).toBe('done');
    expect(container('vm-1-delegate')?.env).toContain('DELEGATE_TAGS=gitspaces,gcp');
    expect(containers().filter((c) => c.name === 'vm-1-delegate')).toHaveLength(1);
  });

  it('starts a stopped runner instead of replacing it', async () => {
    vm.docker(['stop', 'vm-runner']);
    const runsBefore = dockerRuns().length;
    const { events } = await vm.run({ settings: { delegateTags: 'gitspaces,gcp' } });
    expect(events.stateOf('runner')).toBe('done');
    expect(container('vm-runner')?.status).toBe('running');
    expect(dockerRuns().length).toBe(runsBefore);
  });
});
