/**
 * The configuration and adapters a worker needs to set up the test VM (real sshd with the Docker stand-in)
 * as if it were a Google VM: a VM locator that maps every name to the sshd, and secrets in files.
 */
import { settingsFor } from '../../src/compose.js';
import type { Config } from '../../src/config.js';
import type { RunRecord } from '../../src/queue/types.js';
import { createSecretSource } from '../../src/secrets/index.js';
import type { Clock, HostKey, VmLocator } from '../../src/setup/ports.js';
import type { SetupSettings } from '../../src/setup/settings.js';
import type { TestVm } from './engine-vm.js';

/** What a worker (in this process or a child) needs to know about the test VM; no secret values. */
export interface TestVmInfo {
  host: string;
  sshPort: number;
  sshUser: string;
  hostKeys: HostKey[];
  runnerDir: string;
  healthPort: number;
  secretRefs: { pool: string; delegateToken: string; sshKey: string };
}

/** The facts about a started test VM that a worker needs. */
export function testVmInfo(vm: TestVm): TestVmInfo {
  const { pool, delegateToken, sshKey } = vm.secrets.refs;
  return {
    host: vm.sshd.host,
    sshPort: vm.sshd.port,
    sshUser: vm.sshd.user,
    hostKeys: vm.sshd.hostKeys,
    runnerDir: vm.runnerDir,
    healthPort: vm.health.port,
    secretRefs: { pool, delegateToken, sshKey },
  };
}

export function testVmEnv(info: TestVmInfo, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SSH_USER: info.sshUser,
    SSH_PORT: String(info.sshPort),
    RUNNER_DIR: info.runnerDir,
    POOL_SECRET: info.secretRefs.pool,
    DELEGATE_TOKEN_SECRET: info.secretRefs.delegateToken,
    SSH_KEY_SECRET: info.secretRefs.sshKey,
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_HEALTH_TIMEOUT: '4s',
    DELEGATE_HEALTH_TIMEOUT: '4s',
    ...extra,
  };
}

export function testVmAdapters(info: TestVmInfo) {
  const vms: VmLocator = {
    locate: async (ref) => ({
      project: ref.project ?? 'acme-gitspaces',
      zone: ref.zone ?? 'us-central1-a',
      name: ref.name,
      address: info.host,
      hostKeys: info.hostKeys,
    }),
  };
  return { vms, secrets: createSecretSource({ env: {} }) };
}

/** The runner's health endpoint on the test VM is the test's own server, not port 3000. */
export function testVmSettings(config: Config, info: TestVmInfo) {
  return (run: RunRecord): SetupSettings => ({
    ...settingsFor(config, run.target.vm, { delegateName: run.delegateName, tags: run.tags }),
    runnerHealthPort: info.healthPort,
  });
}

/** Real time, but the engine's waits between health polls and retries are kept short. */
export const quickClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, Math.min(ms, 50));
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
};
