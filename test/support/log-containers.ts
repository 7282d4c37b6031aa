/**
 * The runner and delegate containers on a test VM as setup leaves them, for tests that read their logs:
 * each prints `chatty` numbered lines at start and, when `leaky`, its secrets (the delegate its token, the
 * runner its pool file with a password) as a careless service would.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestVm } from './engine-vm.js';
import { TEST_POOL, TEST_TOKEN } from './secrets-dir.js';

export const POOL_PASSWORD = 'pool-Passw0rd-never-shown';

/** The test pool file with a credential in it, as some pool files carry. */
export const POOL_WITH_PASSWORD = TEST_POOL.replace(
  '      account:\n',
  `      account:\n        password: ${POOL_PASSWORD}\n`,
);

export function startLogContainers(vm: TestVm, options: { leaky?: boolean; chatty?: number } = {}): void {
  vm.resetDocker();
  vm.secrets.setPool(POOL_WITH_PASSWORD);
  mkdirSync(vm.runnerDir, { recursive: true });
  writeFileSync(join(vm.runnerDir, 'pool.yml'), POOL_WITH_PASSWORD);
  const names = ['vm-runner', 'vm-1-delegate'];
  const knobs = {
    FAKE_DOCKER_LEAKY: options.leaky ? names.join(',') : '',
    FAKE_DOCKER_CHATTY: names.map((n) => `${n}:${options.chatty ?? 0}`).join(','),
  };
  const settings = vm.settings();
  vm.docker(['network', 'create', 'harness']);
  vm.docker(
    [
      ['run', '-d', '--name', 'vm-runner', '--network', 'harness'],
      ['-v', `${vm.runnerDir}:/runner`, settings.runnerImage, 'delegate', '--pool', '/runner/pool.yml'],
    ].flat(),
    knobs,
  );
  vm.docker(
    [
      ['run', '-d', '--name', 'vm-1-delegate', '--network', 'harness'],
      [
        '-e',
        `DELEGATE_TOKEN=${TEST_TOKEN}`,
        '-e',
        'ACCOUNT_ID=XxRn14tYSUKILSe3XU0R8w',
        settings.delegateImage,
      ],
    ].flat(),
    knobs,
  );
}
