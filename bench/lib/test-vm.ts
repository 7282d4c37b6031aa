/**
 * The test VM of the test suite (OpenSSH sshd on loopback with the Docker stand-in), with the SSH user's
 * home pointed at an empty directory. The tests log in as the user running them, whose real ~/.bashrc may
 * do anything (on the build machines it initialises pyenv, ~100 ms); bash reads it for every command that
 * sshd runs. A GCE image's ~/.bashrc returns at once for non-interactive shells: an empty home is closer.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestVm, type TestVm } from '../../test/support/engine-vm.js';
import type { TestVmInfo } from '../../test/support/queue-test-vm.js';

export async function startBenchVm(): Promise<TestVm> {
  const vm = await startTestVm();
  await vm.sshd.setDockerEnv({ HOME: mkdtempSync(join(tmpdir(), 'gsb-bench-home-')) });
  return vm;
}

export function vmInfo(vm: TestVm): TestVmInfo {
  return {
    host: vm.sshd.host,
    sshPort: vm.sshd.port,
    sshUser: vm.sshd.user,
    hostKeys: vm.sshd.hostKeys,
    runnerDir: vm.runnerDir,
    healthPort: vm.health.port,
    secretRefs: vm.secrets.refs,
  };
}
