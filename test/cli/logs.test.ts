import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { POOL_PASSWORD, startLogContainers } from '../support/log-containers.js';
import { TEST_TOKEN } from '../support/secrets-dir.js';

let vm: TestVm;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  vm = await startTestVm();
  const { refs } = vm.secrets;
  env = {
    POOL_SECRET: refs.pool,
    DELEGATE_TOKEN_SECRET: refs.delegateToken,
    SSH_KEY_SECRET: refs.sshKey,
    HOME: mkdtempSync(join(tmpdir(), 'gsb-home-')),
  };
});
afterAll(async () => vm?.stop());

const run = (argv: string[], environment = env) => runCli(['logs', ...argv], environment);

const host = () => [
  '--host',
  '127.0.0.1',
  '--port',
  String(vm.sshd.port),
  '--user',
  vm.sshd.user,
  '--known-hosts',
  vm.sshd.knownHostsFile,
  '--name',
  'vm-1',
];

describe('gitspaces-bot logs', () => {
  it('prints the last lines of a container to stdout with the secrets masked, and exits 0', async () => {
    startLogContainers(vm, { leaky: true, chatty: 300 });
    const delegate = await run([...host(), 'delegate', '--lines', '400']);
    expect(delegate.code).toBe(0);
    expect(delegate.out).toContain('env DELEGATE_TOKEN=***');
    expect(delegate.out).toContain('vm-1-delegate chatter line 300 of 300');
    const runner = await run([...host(), 'runner', '--lines=2']);
    expect(runner.out.trimEnd().split('\n')).toHaveLength(2);
    const all = await run(['runner', ...host(), '--lines', '5000']);
    expect(all.out).toContain('password: ***');
    for (const r of [delegate, runner, all]) {
      expect(r.out + r.err).not.toContain(TEST_TOKEN);
      expect(r.out + r.err).not.toContain(POOL_PASSWORD);
    }
  });

  it('exits 1 and says how to fix a container that is not there', async () => {
    vm.resetDocker();
    const r = await run([...host(), 'delegate']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('no container vm-1-delegate on vm-1: run /gitspaces setup vm-1');
  });

  it('exits 2 on a bad line count, a missing container word or missing secrets', async () => {
    for (const argv of [
      [...host(), 'runner', '--lines', '0'],
      [...host(), 'runner', '--lines', '6000'],
      [...host(), 'runner', '--lines', 'abc'],
      [...host(), 'web'],
      [...host()],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is not a line count|Which container\?/);
    }
    const unconfigured = await run([...host(), 'runner'], { HOME: env.HOME });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.err).toContain('SSH_KEY_SECRET');
  });
});
