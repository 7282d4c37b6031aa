/**
 * What real Docker does to a set-up VM, and the rerun that repairs it, through a real sshd logging in as a
 * sudo user and the Docker stand-in's engine behaviours (network by id, image ids, logs since a start).
 * The same cases run against the real engine in the real-engine tier.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { NOSUDO_USER, runningAsRoot } from '../support/vm-users.js';

const RUNNER_IMAGE = 'drone/drone-runner-aws:latest';
let vm: TestVm;

beforeAll(async () => {
  vm = await startTestVm();
});
afterAll(async () => {
  await vm?.stop();
});

const inspect = (format: string, name = 'vm-runner') =>
  vm.docker(['inspect', '--type', 'container', '--format', format, name]).trim();
const summaryOf = (events: Awaited<ReturnType<TestVm['run']>>['events'], id: string) =>
  events.finished.find((r) => r.id === id)?.summary ?? '';

// One set-up VM for the whole file: each repair leaves it set up for the next case (the last one breaks it).
describe('a rerun on a VM that Docker changed', () => {
  beforeAll(async () => {
    vm.resetDocker();
    const { result } = await vm.run();
    expect(result.state).toBe('succeeded');
  });

  it('recreates a stopped runner whose network was removed and created again, and says why', async () => {
    const before = inspect('{{.Id}}');
    vm.docker(['stop', 'vm-runner', 'vm-1-delegate']);
    vm.docker(['network', 'prune', '-f']);
    const network = vm.docker(['network', 'create', 'harness']).trim();
    const { result, events } = await vm.run();
    expect(result.state, JSON.stringify(result.error)).toBe('succeeded');
    expect(summaryOf(events, 'runner')).toMatch(/recreated vm-runner: .*network harness/);
    expect(inspect('{{.Id}}')).not.toBe(before);
    expect(inspect('{{.State.Status}} {{(index .NetworkSettings.Networks "harness").NetworkID}}')).toBe(
      `running ${network}`,
    );
    expect(inspect('{{.State.Status}}', 'vm-1-delegate')).toBe('running');
  });

  it('puts a runner taken off its network back on it', async () => {
    vm.docker(['network', 'disconnect', 'harness', 'vm-runner']);
    const { result, events } = await vm.run();
    expect(result.state, JSON.stringify(result.error)).toBe('succeeded');
    expect(summaryOf(events, 'runner')).toContain('not attached to network harness');
    expect(inspect('{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{end}}')).toBe('harness');
  });

  it('recreates the runner when its tag was pulled again with new content', async () => {
    const old = inspect('{{.Image}}');
    vm.sshd.publishImage(RUNNER_IMAGE, 'rebuilt');
    vm.docker(['pull', RUNNER_IMAGE]);
    const pulled = vm.docker(['image', 'inspect', '--format', '{{.Id}}', RUNNER_IMAGE]).trim();
    expect(pulled).not.toBe(old);
    const { result, events } = await vm.run();
    expect(result.state, JSON.stringify(result.error)).toBe('succeeded');
    expect(summaryOf(events, 'runner')).toContain('recreated vm-runner');
    expect(inspect('{{.Image}}')).toBe(pulled);
  });

  it('starts a Docker found stopped and disabled, so that it also comes back at the next boot', async () => {
    // A VM whose docker.service was disabled, after a restart: the daemon is down, so are the containers.
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_NO_DAEMON: '1', FAKE_DOCKER_AT_BOOT: 'disabled' });
    try {
      const { result, events } = await vm.run();
      expect(result.state, JSON.stringify(result.error)).toBe('succeeded');
      expect(summaryOf(events, 'docker')).toBe('started Docker, and made it start at boot');
      // The next run finds Docker answering and enabled at boot: nothing left to do.
      const again = await vm.run();
      expect(again.events.finished.find((r) => r.id === 'docker')?.state).toBe('unchanged');
    } finally {
      await vm.sshd.setDockerEnv({});
    }
  });

  it('does not call a restarted delegate healthy on a registration line from its earlier start', async () => {
    const knobs = { FAKE_DOCKER_STARTING: 'vm-1-delegate' };
    await vm.sshd.setDockerEnv(knobs);
    vm.docker(['restart', 'vm-1-delegate'], knobs);
    expect(vm.docker(['logs', 'vm-1-delegate'])).toContain('Delegate registered with id');
    const { result } = await vm.run({ settings: { delegateHealthTimeoutMs: 1500 } });
    expect(result).toMatchObject({ state: 'failed', step: 'delegate-health' });
    expect(result.error?.code).toBe('HEALTH_TIMEOUT');
  });
});

describe.runIf(runningAsRoot())('an SSH user without passwordless sudo', () => {
  let nosudo: TestVm;
  beforeAll(async () => {
    nosudo = await startTestVm({ user: NOSUDO_USER });
  });
  afterAll(async () => {
    await nosudo?.stop();
  });

  it('is refused with SUDO_REQUIRED before anything on the VM changes', async () => {
    const { result } = await nosudo.run({ settings: { sshUser: NOSUDO_USER } });
    expect(result.state).toBe('failed');
    expect(result.error?.code).toBe('SUDO_REQUIRED');
    expect(result.error?.message).toContain(NOSUDO_USER);
    expect(
      nosudo.sshd.calls().filter((argv) => ['run', 'start', 'rm', 'pull'].includes(argv[0] ?? '')),
    ).toEqual([]);
    expect(Object.keys(nosudo.sshd.dockerState().containers)).toEqual([]);
    expect(existsSync(join(nosudo.runnerDir, 'pool.yml'))).toBe(false);
  });
});
