/**
 * Several test VMs at once: each a real OpenSSH sshd with the Docker stand-in (its own Docker state and
 * runner directory) behind a fault relay. The bot finds them as Google VMs through a locator that gives
 * each its own address (127.0.0.2, 127.0.0.3, …), and its connector reaches that address through the
 * VM's relay. One SSH key (the first VM's) is authorised on all of them, as SSH_KEY_SECRET is one secret.
 */
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsFor } from '../../src/compose.js';
import type { Config } from '../../src/config.js';
import { GitspacesError } from '../../src/errors.js';
import type { RunRecord } from '../../src/queue/types.js';
import { createSecretSource } from '../../src/secrets/index.js';
import type { Clock, Connector, HostKey, VmLocator } from '../../src/setup/ports.js';
import type { SetupSettings } from '../../src/setup/settings.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { type FaultRelay, startRelay } from './fault-relay.js';
import { writeSecrets } from './secrets-dir.js';
import { type FakeDockerState, startSshd, type TestSshd } from './sshd.js';
import { type HealthServer, startHealthServer } from './vm-health-server.js';

const ENV_FILE_PREFIX = '/tmp/gitspaces-delegate.';

/** What a worker (here or in a child process) needs to reach the fleet; references only, no secret. */
export interface FleetVmInfo {
  name: string;
  /** This VM's /tmp (where the delegate's env files go). */
  tmpDir: string;
  address: string;
  relayPort: number;
  hostKeys: HostKey[];
  runnerDir: string;
}

export interface FleetInfo {
  vms: FleetVmInfo[];
  sshUser: string;
  healthPort: number;
  secretRefs: { pool: string; delegateToken: string; sshKey: string; runnerSaKey?: string };
}

export interface FleetVm extends FleetVmInfo {
  sshd: TestSshd;
  relay: FaultRelay;
  /** Containers in this VM's Docker stand-in. */
  containers(): Array<{ name: string; status: string }>;
  state(): FakeDockerState;
  /** A bare VM again. */
  reset(): void;
}

export interface Fleet {
  vms: FleetVm[];
  info: FleetInfo;
  health: HealthServer;
  secrets: ReturnType<typeof writeSecrets>;
  vm(name: string): FleetVm;
  stop(): Promise<void>;
}

export async function startFleet(
  names: string[],
  options: { pool?: string; saKey?: string } = {},
): Promise<Fleet> {
  const health = await startHealthServer();
  const base = mkdtempSync(join(tmpdir(), 'gsb-fleet-'));
  // The login user (not root) makes its env files in each VM's own /tmp.
  chmodSync(base, 0o755);
  const vms: FleetVm[] = [];
  try {
    for (const [index, name] of names.entries()) {
      const sshd = await startSshd();
      const relay = await startRelay(sshd.port);
      const runnerDir = join(base, name, 'runner');
      const tmpDir = join(base, name, 'vm-tmp');
      mkdirSync(tmpDir, { recursive: true });
      chmodSync(join(base, name), 0o755);
      chmodSync(tmpDir, 0o1777);
      vms.push({
        name,
        tmpDir,
        address: `127.0.0.${index + 2}`,
        relayPort: relay.port,
        hostKeys: sshd.hostKeys,
        runnerDir,
        sshd,
        relay,
        containers: () =>
          Object.values(sshd.dockerState().containers ?? {}).map((c) => ({ name: c.name, status: c.status })),
        state: () => sshd.dockerState(),
        reset() {
          sshd.resetDocker();
          rmSync(runnerDir, { recursive: true, force: true });
        },
      });
    }
  } catch (error) {
    for (const vm of vms) await vm.sshd.stop().catch(() => undefined);
    await health.stop();
    throw error;
  }
  const first = vms[0];
  if (first === undefined) throw new Error('a fleet needs at least one VM');
  const publicKey = readFileSync(join(first.sshd.dir, 'id_ed25519.pub'));
  for (const vm of vms.slice(1)) appendFileSync(join(vm.sshd.dir, 'authorized_keys'), publicKey);
  const secrets = writeSecrets(
    first.sshd.privateKey,
    options.pool === undefined ? {} : { pool: options.pool },
  );
  const refs: FleetInfo['secretRefs'] = { ...secrets.refs, runnerSaKey: undefined };
  if (options.saKey !== undefined) {
    const file = join(secrets.dir, 'sa-key.json');
    appendFileSync(file, options.saKey, { mode: 0o600 });
    refs.runnerSaKey = `file:${file}`;
  }
  const info: FleetInfo = {
    vms: vms.map(({ name, tmpDir, address, relayPort, hostKeys, runnerDir }) => ({
      name,
      tmpDir,
      address,
      relayPort,
      hostKeys,
      runnerDir,
    })),
    sshUser: first.sshd.user,
    healthPort: health.port,
    secretRefs: refs,
  };
  return {
    vms,
    info,
    health,
    secrets,
    vm(name) {
      const found = vms.find((v) => v.name === name);
      if (found === undefined) throw new Error(`no VM ${name} in the fleet`);
      return found;
    },
    async stop() {
      for (const vm of vms) {
        await vm.relay.close();
        await vm.sshd.stop();
      }
      await health.stop();
      rmSync(base, { recursive: true, force: true });
      rmSync(secrets.dir, { recursive: true, force: true });
    },
  };
}

/** The configuration a worker for the fleet runs with (besides REDIS_URL, QUEUE_PREFIX and Slack). */
export function fleetEnv(info: FleetInfo, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SSH_USER: info.sshUser,
    POOL_SECRET: info.secretRefs.pool,
    DELEGATE_TOKEN_SECRET: info.secretRefs.delegateToken,
    SSH_KEY_SECRET: info.secretRefs.sshKey,
    ...(info.secretRefs.runnerSaKey ? { RUNNER_SA_KEY_SECRET: info.secretRefs.runnerSaKey } : {}),
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_HEALTH_TIMEOUT: '10s',
    DELEGATE_HEALTH_TIMEOUT: '10s',
    ...extra,
  };
}

/** The engine's adapters for the fleet: VMs found by name, SSH through each VM's relay, secrets in files. */
export function fleetAdapters(info: FleetInfo) {
  const byName = new Map(info.vms.map((vm) => [vm.name, vm]));
  const byAddress = new Map(info.vms.map((vm) => [vm.address, vm]));
  const vms: VmLocator = {
    locate: async (ref) => {
      const vm = byName.get(ref.name);
      if (vm === undefined)
        throw new GitspacesError('VM_NOT_FOUND', `VM ${ref.name} was not found in the test fleet.`);
      return {
        project: ref.project ?? 'acme-gitspaces',
        zone: ref.zone ?? 'us-central1-a',
        name: ref.name,
        address: vm.address,
        hostKeys: vm.hostKeys,
      };
    },
  };
  const connect: Connector = async (options) => {
    const vm = byAddress.get(options.host);
    if (vm === undefined) return connectSsh(options);
    const connected = await connectSsh({
      ...options,
      host: '127.0.0.1',
      port: vm.relayPort,
      readyTimeoutMs: 5000,
    });
    const { remote } = connected;
    // Every fleet VM is this machine: each gets a /tmp of its own for the delegate's env files, as real
    // VMs have, so that one VM's clean-up (`rm -f /tmp/gitspaces-delegate.*`) cannot reach another's.
    const ownTmp = (text: string) => text.replaceAll(ENV_FILE_PREFIX, join(vm.tmpDir, 'gitspaces-delegate.'));
    return {
      ...connected,
      remote: {
        user: remote.user,
        exec: (command, execOptions) => remote.exec(ownTmp(command), execOptions),
        putFile: (path, content, mode) => remote.putFile(ownTmp(path), content, mode),
        close: () => remote.close(),
      },
    };
  };
  return { vms, connect, secrets: createSecretSource({ env: {} }) };
}

/** Settings of a run on the fleet: the VM's own runner directory, the shared runner health endpoint. */
export function fleetSettings(config: Config, info: FleetInfo) {
  return (run: RunRecord): SetupSettings => ({
    ...settingsFor(config, run.target.vm, { delegateName: run.delegateName, tags: run.tags }),
    runnerDir: info.vms.find((vm) => vm.name === run.target.vm)?.runnerDir ?? config.runnerDir,
    runnerHealthPort: info.healthPort,
  });
}

/**
 * Real time, with every wait the engine makes (retry backoff, health polls) a tenth as long: the retries
 * and their order are the product's, only shorter. Messages still name the real waits ("Retrying in 3s").
 */
export const tenthClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, Math.ceil(ms / 10));
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
