import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { capturedIo } from '../support/cli-run.js';
import { holdRunnerPort } from '../support/runner-port.js';
import { TEST_TOKEN, writeSecrets } from '../support/secrets-dir.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let sshd: TestSshd;
let port3000: Awaited<ReturnType<typeof holdRunnerPort>>;
let env: NodeJS.ProcessEnv;

const io = capturedIo;

const target = () => [
  '--host',
  '127.0.0.1',
  '--port',
  String(sshd.port),
  '--user',
  sshd.user,
  '--known-hosts',
  sshd.knownHostsFile,
  '--name',
  'vm-cli',
];

/** Runs `command` against the test VM, expects exit code 0, and returns what it printed on stdout. */
async function succeeds(command: string, ...extra: string[]): Promise<string> {
  const t = io();
  expect(await main([command, ...target(), ...extra], env, t.io)).toBe(0);
  return t.out();
}

// Waits its turn for port 3000, which a test file holds as long as it runs (test/support/runner-port.ts).
beforeAll(async () => {
  sshd = await startSshd();
  port3000 = await holdRunnerPort();
  const secrets = writeSecrets(sshd.privateKey);
  const runnerDir = join(mkdtempSync(join(tmpdir(), 'gsb-cli-')), 'runner');
  env = {
    POOL_SECRET: secrets.refs.pool,
    DELEGATE_TOKEN_SECRET: secrets.refs.delegateToken,
    SSH_KEY_SECRET: secrets.refs.sshKey,
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_DIR: runnerDir,
    RUNNER_HEALTH_TIMEOUT: '60s',
    DELEGATE_HEALTH_TIMEOUT: '60s',
    HOME: mkdtempSync(join(tmpdir(), 'gsb-home-')),
  };
}, 420_000);
afterAll(async () => {
  await port3000?.release();
  await sshd?.stop();
});

describe('gitspaces-bot in a terminal', () => {
  it('stops at approval with exit code 3 when there is no terminal and no --yes', async () => {
    const t = io();
    expect(await main(['setup', ...target()], env, t.io)).toBe(3);
    expect(t.out()).toContain('--yes');
    expect(Object.values(sshd.dockerState().containers).map((c) => c.name)).toEqual(['vm-runner']);
  });

  it('goes from bare to healthy with --yes, and a second run reports every step already in place', async () => {
    const first = io();
    expect(await main(['setup', ...target(), '--yes'], env, first.io)).toBe(0);
    expect(first.out()).toContain('vm-cli is set up');
    expect(first.out()).toMatch(/✓ delegate-health/);

    const second = io();
    expect(await main(['setup', ...target(), '--yes'], env, second.io)).toBe(0);
    expect(second.out()).toContain('Every step was already in place');
    for (const out of [first.out(), second.out(), first.err(), second.err()])
      expect(out).not.toContain(TEST_TOKEN);
  });

  it('shows what is live with status', async () => {
    const t = io();
    expect(await main(['status', ...target()], env, t.io)).toBe(0);
    expect(t.out()).toMatch(/runner: vm-runner: running .*healthy/);
    expect(t.out()).toMatch(/delegate: vm-cli-delegate: running .*healthy/);
  });

  it('plans without changing anything and exits 0', async () => {
    const before = sshd.calls().length;
    const t = io();
    expect(await main(['plan', ...target()], env, t.io)).toBe(0);
    const during = sshd.calls().slice(before);
    expect(during.some((argv) => ['run', 'rm', 'start', 'stop'].includes(argv[0] ?? ''))).toBe(false);
    expect(t.out()).toContain('vm-cli is set up: nothing would change.');
  });

  it('warns of a Docker that does not start at boot, plans to fix it, and setup fixes it alone', async () => {
    await sshd.setDockerEnv({ FAKE_DOCKER_AT_BOOT: 'disabled' });
    try {
      expect(await succeeds('status')).toContain(
        'warning: Docker does not start at boot (docker.service is disabled): after the VM restarts, the runner and the delegate stay down. Run setup again',
      );
      const plan = await succeeds('plan');
      expect(plan).toContain('answers but does not start at boot');
      expect(plan).toContain('1 step would change');
      const setup = await succeeds('setup', '--yes');
      expect(setup).toContain('made Docker start at boot');
      expect(setup).not.toMatch(/recreated|approval requested/i);
      expect(await succeeds('status')).not.toContain('does not start at boot');
    } finally {
      await sshd.setDockerEnv({});
    }
  });

  it("shows the VM's CPUs and memory, and warns of one too small for the delegate without failing", async () => {
    const status = await succeeds('status');
    expect(status).toContain('docker: Docker 27.3.1 (2 CPUs, 8.0 GB of memory)');
    expect(status).not.toContain('warning: the VM has');
    await sshd.setDockerEnv({ FAKE_DOCKER_MEM_TOTAL: String(2_067_914_752) });
    try {
      expect(await succeeds('status')).toContain(
        "warning: the VM has 2 CPUs, 1.9 GB of memory, less than the delegate's 2 GB and the runner need",
      );
      expect(await succeeds('setup', '--yes')).toMatch(
        /= docker .*Docker 27\.3\.1 \(2 CPUs, 1\.9 GB of memory\); warning: that is less than the delegate's 2 GB .*e2-medium/,
      );
    } finally {
      await sshd.setDockerEnv({});
    }
  });

  it('refuses --host without a pinned key source with exit code 2', async () => {
    const t = io();
    expect(await main(['setup', '--host', '127.0.0.1', '--port', String(sshd.port)], env, t.io)).toBe(2);
    expect(t.err()).toContain('--known-hosts');
  });

  it('exits 2 with every missing setting named', async () => {
    const t = io();
    expect(await main(['setup', ...target()], { HOME: env.HOME }, t.io)).toBe(2);
    for (const name of ['POOL_SECRET', 'DELEGATE_TOKEN_SECRET', 'SSH_KEY_SECRET', 'HARNESS_ACCOUNT_ID'])
      expect(t.err()).toContain(name);
  });

  it('exits 2 on bad usage and explains it', async () => {
    const t = io();
    expect(await main(['setup'], env, t.io)).toBe(2);
    expect(t.err()).toContain('Which VM?');
    const u = io();
    expect(await main(['frobnicate'], env, u.io)).toBe(2);
    expect(u.err()).toContain('Unknown command');
  });

  // Last: the runner's log keeps its error for the hour the probe looks back on.
  it("warns at runner-health when Google refuses the pool's VMs, without failing the run", async () => {
    // The runner builds its pools before it listens: it logs the refusal and answers /healthz all the same.
    const restart = spawnSync(process.execPath, ['--', sshd.docker, 'restart', 'vm-runner'], {
      env: { ...process.env, FAKE_DOCKER_STATE: sshd.dockerStateDir, FAKE_DOCKER_QUOTA: 'vm-runner' },
    });
    expect(restart.status, String(restart.stderr)).toBe(0);
    const warning =
      "warning: vm-runner logged an error in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: googleapi: Error 403: Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1., quotaExceeded — a Compute Engine quota of the project is used up";
    expect(await succeeds('setup', '--yes')).toContain(`vm-runner is healthy; ${warning}`);
    expect(await succeeds('status')).toContain(warning);
  });
});
