import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretSource } from '../../src/secrets/index.js';
import { containerLogs, type LogsRequest, parseLogLines } from '../../src/setup/container-logs.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { POOL_PASSWORD, startLogContainers } from '../support/log-containers.js';
import { TEST_TOKEN } from '../support/secrets-dir.js';

let vm: TestVm;

beforeAll(async () => {
  vm = await startTestVm();
});
afterAll(async () => vm?.stop());

function logsOf(request: LogsRequest) {
  const { sshd } = vm;
  return containerLogs(
    { kind: 'host', host: sshd.host, port: sshd.port, name: 'vm-1' },
    vm.settings(),
    { port: sshd.port, address: 'internal' },
    {
      secrets: createSecretSource({ env: {} }),
      vms: undefined,
      connect: connectSsh,
      pinFor: async () => pinKeys(sshd.hostKeys, 'the test sshd'),
      needsPublishedKeys: false,
    },
    request,
  );
}

describe('container logs', () => {
  it('reads the last lines of the runner, stdout and stderr in the order printed', async () => {
    startLogContainers(vm, { chatty: 30 });
    const logs = await logsOf({ container: 'runner', lines: 10 });
    expect(logs).toMatchObject({ vm: 'vm-1', container: 'vm-runner', requested: 10 });
    const lines = logs.text.split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toContain('vm-runner chatter line 30 of 30');
    expect(lines.at(-2)).toContain('vm-runner chatter line 29 of 30');
    // Through sudo, as every docker command on a GCE VM.
    expect(vm.sshd.calls().at(-1)).toEqual(['logs', '--tail', '10', 'vm-runner']);
  });

  it('masks the delegate token and the pool file password wherever a container prints them', async () => {
    startLogContainers(vm, { leaky: true });
    const delegate = await logsOf({ container: 'delegate', lines: 100 });
    expect(delegate.container).toBe('vm-1-delegate');
    expect(delegate.text).toContain('env DELEGATE_TOKEN=***');
    expect(delegate.text).not.toContain(TEST_TOKEN);
    const runner = await logsOf({ container: 'runner', lines: 100 });
    expect(runner.text).toContain('password: ***');
    expect(runner.text).toContain('machine_type: e2-standard-4');
    expect(runner.text).not.toContain(POOL_PASSWORD);
  });

  it('says how to fix a container that is not there', async () => {
    vm.resetDocker();
    await expect(logsOf({ container: 'delegate', lines: 100 })).rejects.toMatchObject({
      code: 'CONTAINER_MISSING',
      message: expect.stringMatching(/^no container vm-1-delegate on vm-1: run \/gitspaces setup vm-1/),
    });
  });

  it('takes a line count from 1 to 5,000 and nothing else', () => {
    expect(parseLogLines('1')).toBe(1);
    expect(parseLogLines('5000')).toBe(5000);
    for (const bad of ['0', '5001', '6000', 'abc', '-5', '1.5', '', '1e3'])
      expect(parseLogLines(bad)).toBe(undefined);
  });
});
