import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.js';
import { createSecretSource } from '../../src/secrets/index.js';
import { type EngineDeps, type RunInput, runSetup } from '../../src/setup/engine.js';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import type { ApprovalDecision, Journal } from '../../src/setup/ports.js';
import { Redactor } from '../../src/setup/redactor.js';
import type { SetupSettings } from '../../src/setup/settings.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { eventLog } from './engine-events.js';
import { writeSecrets } from './secrets-dir.js';
import { type SshdOptions, startSshd } from './sshd.js';
import { startHealthServer } from './vm-health-server.js';

/** A "VM": real sshd on loopback with the Docker stand-in, a runner health endpoint, secrets in files. */
export async function startTestVm(sshdOptions: SshdOptions = {}) {
  const sshd = await startSshd(sshdOptions);
  const health = await startHealthServer();
  const secrets = writeSecrets(sshd.privateKey);
  const runnerDir = join(mkdtempSync(join(tmpdir(), 'gsb-runner-')), 'runner dir');
  // Every test VM is this one machine: a run id shared between test files running at once would let one
  // run's clean-up of its env files (`/tmp/gitspaces-delegate.<run id>.*`) remove another's.
  const runId = `run-test-${randomBytes(4).toString('hex')}`;
  const settings = (over: Partial<SetupSettings> = {}): SetupSettings => ({
    vm: 'vm-1',
    sshUser: sshd.user,
    runnerDir,
    dockerNetwork: 'harness',
    runnerImage: 'drone/drone-runner-aws:latest',
    delegateImage: 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:25.03.85504',
    delegateName: 'vm-1-delegate',
    delegateTags: '',
    accountId: 'XxRn14tYSUKILSe3XU0R8w',
    managerUrl: 'https://app.harness.io',
    runnerHealthTimeoutMs: 30_000,
    delegateHealthTimeoutMs: 30_000,
    runnerHealthPort: health.port,
    approvalTtlMs: 60_000,
    secretRefs: secrets.refs,
    ...over,
  });

  async function run(
    options: {
      mode?: 'setup' | 'plan';
      decision?: ApprovalDecision['kind'];
      journal?: Journal;
      settings?: Partial<SetupSettings>;
      deps?: Partial<EngineDeps>;
      /** An upgrade's kind and images, or another run id. */
      input?: Partial<RunInput>;
    } = {},
  ) {
    const events = eventLog();
    const journal = options.journal ?? memoryJournal();
    const decision = options.decision ?? 'approved';
    const input: RunInput = {
      runId,
      mode: options.mode ?? 'setup',
      target: { kind: 'host', host: sshd.host, port: sshd.port, name: 'vm-1' },
      settings: settings(options.settings),
      sshPort: sshd.port,
      address: 'internal',
      ...options.input,
    };
    const redactor = new Redactor();
    const result = await runSetup(input, {
      secrets: createSecretSource({ env: {} }),
      vms: undefined,
      connect: connectSsh,
      pinFor: async () => pinKeys(sshd.hostKeys, 'the test sshd'),
      needsPublishedKeys: false,
      reporter: events.reporter,
      gate: {
        decide: async () =>
          decision === 'approved' || decision === 'rejected' || decision === 'cancelled'
            ? { kind: decision, by: 'U0APPROVER', at: Date.now() }
            : decision === 'expired'
              ? { kind: 'expired' }
              : { kind: 'pending' },
      },
      journal,
      clock: { now: systemClock.now, sleep: (ms, signal) => systemClock.sleep(Math.min(ms, 50), signal) },
      redactor,
      ...options.deps,
    });
    return { result, events, journal, redactor };
  }

  return {
    sshd,
    health,
    /** A bare VM again: no containers, no networks, no recorded calls, no runner files. */
    resetDocker() {
      sshd.resetDocker();
      rmSync(runnerDir, { recursive: true, force: true });
    },
    /** Runs the Docker stand-in directly, as root on the VM would. */
    docker(argv: string[], knobs: Record<string, string> = {}) {
      const out = spawnSync(process.execPath, ['--', sshd.docker, ...argv], {
        env: { ...process.env, FAKE_DOCKER_STATE: sshd.dockerStateDir, ...knobs },
        encoding: 'utf8',
      });
      if (out.status !== 0) throw new Error(`docker ${argv.join(' ')} failed: ${out.stderr}`);
      return out.stdout;
    },
    secrets,
    runnerDir,
    settings,
    run,
    async stop() {
      await health.stop();
      await sshd.stop();
    },
  };
}

export type TestVm = Awaited<ReturnType<typeof startTestVm>>;
