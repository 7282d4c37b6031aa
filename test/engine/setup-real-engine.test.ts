/**
 * The real-engine tier: `gitspaces-bot setup` as its own process, logging in over real OpenSSH as the non-root
 * `gitspaces` user (passwordless sudo, no docker on its PATH) to a dockerd of the tests' own, pulling the
 * stand-in runner and delegate from Debian's docker-registry on loopback.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { engineMissing } from '../support/engine/daemon.js';
import { DELEGATE, type EngineTier, NETWORK, startEngineTier, TEST_TOKEN } from '../support/engine/tier.js';
import { TEST_POOL } from '../support/secrets-dir.js';

const missing = engineMissing();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (missing && !inCi) console.warn(`real-engine tests skipped: ${missing}`);

let tier: EngineTier;
/** What the terminal showed for the setup from bare (the pull lines are checked on their own). */
let fromBare = '';
const RUNNER = 'vm-runner';

// Its bound covers the wait for the other real-engine file, which holds the runner's port while it runs.
beforeAll(async () => {
  // In CI a machine that cannot run the engine fails here, loudly, instead of passing without these tests.
  if (missing) throw new Error(`the real-engine tier cannot run: ${missing}`);
  tier = await startEngineTier();
}, 600_000);
afterAll(async () => {
  await tier?.stop();
}, 60_000);

/** Whether the VM is known to be set up as the bot wants it (so a test may start from there). */
let healthy = false;

/** Runs setup and expects it to end healthy; returns what the terminal showed. */
async function setupHealthy(env: Record<string, string> = {}): Promise<string> {
  healthy = false;
  const run = await tier.cli('setup', ['--yes'], env);
  expect(run.output).toMatch(/✓ delegate-health|= delegate-health/);
  expect(run.code, run.output).toBe(0);
  healthy = true;
  return run.output;
}

/** A VM set up and healthy, from bare again when an earlier test left it otherwise; then `change` is done to it. */
async function healthyThen(change: () => void): Promise<void> {
  if (!healthy) {
    bare();
    await setupHealthy();
  }
  healthy = false;
  change();
}

function bare(): void {
  healthy = false;
  tier.reset();
}

const running = (name: string) => tier.inspect(name, '{{.State.Status}}');
/** Whether the delegate's health endpoint answers, asked inside it as its image's HEALTHCHECK does. */
const delegateAnswers = () =>
  tier.engine.tryDocker([
    'exec',
    DELEGATE,
    'wget',
    '-q',
    '-O',
    '/dev/null',
    'http://localhost:3460/api/health',
  ]).code === 0;
const networkOf = (name: string) =>
  tier.inspect(name, '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}');

/** Recreates vm-runner by hand with the bot's own labels and arguments, except what `change` replaces. */
function recreateRunnerBy(change: (args: string[]) => string[]): void {
  const labels = JSON.parse(tier.inspect(RUNNER, '{{json .Config.Labels}}')) as Record<string, string>;
  tier.engine.docker(['rm', '-f', RUNNER]);
  const args = [
    ...['run', '-d', '--name', RUNNER, '--network', NETWORK, '--hostname', RUNNER],
    ...['-v', `${tier.runnerDir}:/runner`, '-p', '3000:3000', '--restart', 'unless-stopped'],
    ...Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
  ];
  tier.engine.docker([...change(args), tier.images.runner, 'delegate', '--pool', '/runner/pool.yml']);
}

describe.skipIf(missing !== undefined && !inCi)('setup against a real Docker engine as a sudo user', () => {
  it('plans a bare VM as steps that would change, without calling it set up', async () => {
    bare();
    const run = await tier.cli('plan');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/\d+ steps would change/);
    expect(run.output).not.toContain('is set up');
    expect(tier.containerIds()).toEqual({});
  });

  it('goes from bare to healthy, pulling both images from the registry', async () => {
    bare();
    const output = await setupHealthy();
    fromBare = output;
    expect(output).toContain('vm-engine is set up');
    expect(running(RUNNER)).toBe('running');
    expect(running(DELEGATE)).toBe('running');
    expect(networkOf(RUNNER).trim()).toBe(NETWORK);
    expect(tier.engine.docker(['image', 'ls', '-q', tier.images.delegate]).trim()).not.toBe('');
    expect(output).not.toContain(TEST_TOKEN);
  });

  it('shows each image pull in the terminal with its layers and size', () => {
    const output = fromBare;
    expect(output).toContain('vm-engine is set up');
    // These images are small: the pull is over before a progress line is due, so only its summary shows.
    for (const image of [tier.images.runner, tier.images.delegate])
      expect(output).toMatch(
        new RegExp(`pulled ${image.replace(/[.]/g, '\\.')} \\(\\d+ layers?, [\\d.]+ MB\\)`),
      );
  });

  it('keeps the runner database in the runner folder on the VM, so recreating vm-runner keeps it', async () => {
    await healthyThen(() => {});
    healthy = true;
    expect(tier.inspect(RUNNER, '{{json .Config.Env}}')).toContain(
      'DRONE_DATABASE_DATASOURCE=/runner/database.sqlite3',
    );
    expect(existsSync(join(tier.runnerDir, 'database.sqlite3'))).toBe(true);
  });

  it("status shows how full the disk holding Docker's data is, as df tells it", async () => {
    await healthyThen(() => {});
    healthy = true;
    const root = tier.engine.docker(['info', '--format', '{{.DockerRootDir}}']).trim();
    const run = await tier.cli('status');
    expect(run.code, run.output).toBe(0);
    const line = run.output.split('\n').find((l) => l.includes('disk: '));
    expect(line).toMatch(/disk: \d+% used, [\d.]+ [MG]B free \(\/\S* holds Docker's /);
    expect(line).toContain(`Docker's ${root})`);
    // The CPUs and memory this machine's engine reports.
    expect(run.output).toMatch(/docker: Docker \S+ \(\d+ CPUs?, \d+\.\d GB of memory\)/);
  });

  it('creates nothing when run again: the same containers, not restarted', async () => {
    await healthyThen(() => {});
    const ids = tier.containerIds();
    const started = tier.inspect(RUNNER, '{{.State.StartedAt}}');
    const output = await setupHealthy();
    expect(output).toContain('Every step was already in place');
    expect(tier.containerIds()).toEqual(ids);
    expect(tier.inspect(RUNNER, '{{.State.StartedAt}}')).toBe(started);
  });

  it('comes back by itself when the VM restarts, and a setup afterwards changes nothing', async () => {
    await healthyThen(() => {});
    const ids = tier.containerIds();
    const started = tier.inspect(RUNNER, '{{.State.StartedAt}}');
    // A VM's shutdown stops dockerd, which stops the containers; its next boot starts dockerd on the same data.
    await tier.engine.restart();
    await vi.waitFor(() => expect([running(RUNNER), running(DELEGATE)]).toEqual(['running', 'running']), {
      timeout: 20_000,
      interval: 200,
    });
    expect(tier.inspect(RUNNER, '{{.State.StartedAt}}')).not.toBe(started);
    // The delegate registers once it reaches the runner again, a second or two after both run.
    await vi.waitFor(() => expect(delegateAnswers()).toBe(true), { timeout: 20_000, interval: 250 });
    const status = await tier.cli('status');
    expect(status.code, status.output).toBe(0);
    expect(status.output).toMatch(/vm-runner: running \(\S+\), healthy/);
    expect(status.output).toMatch(new RegExp(`${DELEGATE}: running \\(\\S+\\), healthy`));
    const output = await setupHealthy();
    expect(output).toContain('Every step was already in place');
    expect(tier.containerIds()).toEqual(ids);
  });

  it('status says when the delegate exited by itself and Docker started it again', async () => {
    await healthyThen(() => {});
    healthy = true;
    const ids = tier.containerIds();
    // The delegate's main process ends on its own (as on a crash); its restart policy starts it again. Detached:
    // the container's end also ends the exec that caused it, often before it could answer.
    tier.engine.docker(['exec', '-d', DELEGATE, 'kill', '-TERM', '1']);
    await vi.waitFor(
      () => expect(tier.inspect(DELEGATE, '{{.RestartCount}} {{.State.Status}}')).toBe('1 running'),
      { timeout: 20_000, interval: 200 },
    );
    const status = await tier.cli('status');
    expect(status.output).toMatch(
      new RegExp(
        `${DELEGATE}: running \\(\\S+\\), [^\\n]*, restarted once after exiting by itself; exited once in the last 24 h; last exit code 0`,
      ),
    );
    expect(tier.containerIds()).toEqual(ids);
  });

  it('status says when the kernel killed the delegate for lack of memory, as Docker told it', async () => {
    await healthyThen(() => {});
    healthy = true;
    // The fixture's main process takes memory without end on SIGUSR1, until its 2 GB limit has the kernel kill it.
    const before = Number(tier.inspect(DELEGATE, '{{.RestartCount}}'));
    tier.engine.docker(['exec', '-d', DELEGATE, 'kill', '-USR1', '1']);
    await vi.waitFor(
      () =>
        expect(tier.inspect(DELEGATE, '{{.RestartCount}} {{.State.Status}}')).toBe(`${before + 1} running`),
      { timeout: 60_000, interval: 250 },
    );
    const status = await tier.cli('status');
    expect(status.output).toMatch(/killed for lack of memory once; last exit code 137/);
  }, 90_000);

  it('status and setup say when Harness froze the delegate, though its health endpoint still answers', async () => {
    await healthyThen(() => {});
    // The fixture logs a revoked token on SIGUSR2 and goes on serving, as a frozen delegate does.
    tier.engine.docker(['exec', DELEGATE, 'kill', '-USR2', '1']);
    await vi.waitFor(() => expect(tier.engine.docker(['logs', DELEGATE])).toContain('revoked token'), {
      timeout: 10_000,
      interval: 200,
    });
    expect(delegateAnswers()).toBe(true);
    const status = await tier.cli('status');
    expect(status.output).toMatch(
      new RegExp(
        `${DELEGATE}: running \\(\\S+\\), Harness revoked its token, so it is frozen and takes no tasks`,
      ),
    );
    const run = await tier.cli('setup', ['--yes']);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('failed at delegate-health');
    expect(run.output).toContain('put it in DELEGATE_TOKEN_SECRET and run setup again');
    // A restart keeps the token the container was created with, and so the freeze; a new container does not.
    tier.engine.docker(['restart', '-t', '1', DELEGATE]);
    await vi.waitFor(() => expect(delegateAnswers()).toBe(true), { timeout: 20_000, interval: 250 });
    expect((await tier.cli('status')).output).toContain('Harness revoked its token');
    tier.engine.docker(['rm', '-f', DELEGATE]);
    await setupHealthy();
  });

  it('status warns when the runner fails to create Gitspace VMs, though its /healthz says OK', async () => {
    await healthyThen(() => {});
    // The fixture logs Google's refusal for a used-up quota on SIGUSR1, on stderr, and goes on serving.
    tier.engine.docker(['exec', RUNNER, 'kill', '-USR1', '1']);
    await vi.waitFor(
      () => expect(tier.engine.tryDocker(['logs', RUNNER]).stderr).toContain('quotaExceeded'),
      {
        timeout: 10_000,
        interval: 200,
      },
    );
    const status = await tier.cli('status');
    expect(status.output).toMatch(/vm-runner: running \(\S+\), healthy/);
    expect(status.output).toContain(
      "warning: vm-runner logged an error in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: googleapi: Error 403: Quota 'CPUS' exceeded.",
    );
    expect(status.output).toContain('quotaExceeded — a Compute Engine quota of the project is used up');
    healthy = false; // its log keeps the error for an hour
  });

  it("warns at runner-health when Google refuses the pool's VMs, and the run still succeeds", async () => {
    await healthyThen(() => {});
    // The fixture, like the real runner, builds a pool named over-quota before it listens: it logs the refusal.
    const dir = mkdtempSync(join(tmpdir(), 'gsb-engine-pool-'));
    writeFileSync(join(dir, 'pool.yaml'), TEST_POOL.replace('name: linux-amd64', 'name: over-quota'));
    const output = await setupHealthy({ POOL_SECRET: `file:${join(dir, 'pool.yaml')}` });
    expect(output).toMatch(
      /vm-runner (is healthy|healthy after \d+s); warning: vm-runner logged an error in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: googleapi: Error 403: Quota 'CPUS' exceeded\. {2}Limit: 24\.0 in region us-central1\., quotaExceeded — a Compute Engine quota/,
    );
    healthy = false; // another pool than the tier's
    rmSync(dir, { recursive: true, force: true });
  });

  it('recreates stopped containers whose network was removed and made again', async () => {
    await healthyThen(() => {
      tier.engine.docker(['stop', DELEGATE, RUNNER]);
      tier.engine.docker(['network', 'rm', NETWORK]);
      tier.engine.docker(['network', 'create', NETWORK]);
    });
    const networkId = tier.engine.docker(['network', 'inspect', '-f', '{{.Id}}', NETWORK]).trim();
    await setupHealthy();
    for (const name of [RUNNER, DELEGATE]) {
      expect(running(name)).toBe('running');
      expect(tier.inspect(name, `{{(index .NetworkSettings.Networks "${NETWORK}").NetworkID}}`)).toBe(
        networkId,
      );
    }
  });

  it('attaches the runner again when it was disconnected from the network, and says so', async () => {
    await healthyThen(() => tier.engine.docker(['network', 'disconnect', NETWORK, RUNNER]));
    const output = await setupHealthy();
    expect(output).toMatch(/vm-runner.*(network|harness)|(network|harness).*vm-runner/i);
    expect(networkOf(RUNNER).trim()).toBe(NETWORK);
  });

  it('recreates the runner when its tag was pulled again with new content', async () => {
    await healthyThen(() => {
      tier.images.republish('runner', 'second');
      tier.engine.docker(['pull', '-q', tier.images.runner]);
    });
    const wanted = tier.engine.docker(['image', 'inspect', '-f', '{{.Id}}', tier.images.runner]).trim();
    expect(tier.inspect(RUNNER, '{{.Image}}')).not.toBe(wanted);
    const output = await setupHealthy();
    // The repair names both image ids: the one the tag now has and the one the container ran.
    expect(output).toMatch(new RegExp(`recreated vm-runner.*${wanted.slice(7, 19)}`));
    expect(tier.inspect(RUNNER, '{{.Image}}')).toBe(wanted);
  });

  it('puts the restart policy back when someone changed it', async () => {
    await healthyThen(() => tier.engine.docker(['update', '--restart', 'no', RUNNER]));
    const output = await setupHealthy();
    expect(output).toMatch(/restart/i);
    expect(tier.inspect(RUNNER, '{{.HostConfig.RestartPolicy.Name}}')).toBe('unless-stopped');
  });

  it("bounds both containers' logs, and recreates a runner started by hand whose log never rotates", async () => {
    for (const name of [RUNNER, DELEGATE]) {
      await healthyThen(() => {});
      healthy = true;
      const logs = JSON.parse(tier.inspect(name, '{{json .HostConfig.LogConfig}}'));
      expect(logs).toEqual({ Type: 'json-file', Config: { 'max-file': '5', 'max-size': '20m' } });
    }
    await healthyThen(() => recreateRunnerBy((args) => args));
    expect(tier.inspect(RUNNER, '{{json .HostConfig.LogConfig.Config}}').trim()).toBe('{}');
    const output = await setupHealthy();
    expect(output).toContain('logs json-file, never rotated → rotated at 20m, 5 files');
    expect(tier.inspect(RUNNER, '{{index .HostConfig.LogConfig.Config "max-size"}}').trim()).toBe('20m');
  });

  it('recreates a runner started by hand on another published port', async () => {
    await healthyThen(() =>
      recreateRunnerBy((args) => args.map((arg) => (arg === '3000:3000' ? '3001:3000' : arg))),
    );
    const output = await setupHealthy();
    expect(output).toMatch(/port|3000/i);
    expect(tier.inspect(RUNNER, '{{json .HostConfig.PortBindings}}')).toContain('"HostPort":"3000"');
  });

  it('recreates a runner started by hand with another folder mounted', async () => {
    const other = mkdtempSync(join(tmpdir(), 'gsb-engine-other-'));
    try {
      await healthyThen(() => {
        copyFileSync(join(tier.runnerDir, 'pool.yml'), join(other, 'pool.yml'));
        recreateRunnerBy((args) =>
          args.map((arg) => (arg === `${tier.runnerDir}:/runner` ? `${other}:/runner` : arg)),
        );
      });
      const output = await setupHealthy();
      expect(output).toMatch(/mount|\/runner/i);
      expect(tier.inspect(RUNNER, '{{range .Mounts}}{{.Source}}{{end}}')).toBe(tier.runnerDir);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('does not call a delegate healthy on a registration line from an earlier start', async () => {
    // This start waits forever before registering; the log still holds the line of the start before.
    await healthyThen(() => {
      tier.engine.docker(['exec', DELEGATE, 'touch', '/hold']);
      tier.engine.docker(['restart', '-t', '1', DELEGATE]);
    });
    expect(tier.engine.docker(['logs', DELEGATE])).toContain('Delegate registered with id');
    const run = await tier.cli('setup', ['--yes'], { DELEGATE_HEALTH_TIMEOUT: '4s' });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('failed at delegate-health');
    expect(run.output).not.toContain(TEST_TOKEN);
  });

  it('shows the log of a delegate that never gets healthy, without its token', async () => {
    healthy = false;
    const run = await tier.cli('setup', ['--yes'], {
      DELEGATE_TAGS: 'never-healthy',
      DELEGATE_HEALTH_TIMEOUT: '4s',
    });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('failed at delegate-health');
    expect(run.output).toContain('this start never registers');
    expect(run.output).not.toContain(TEST_TOKEN);
  });

  it('checks the runner on a VM whose login user has no curl', async () => {
    bare();
    tier.vm.removeCurl();
    try {
      await setupHealthy();
    } finally {
      tier.vm.restoreCurl();
    }
  });

  it("fails the step whose image the registry does not have, with Docker's message", async () => {
    bare();
    const missingImage = tier.images.runner.replace(/:latest$/, ':no-such-tag');
    const run = await tier.cli('setup', ['--yes'], { RUNNER_IMAGE: missingImage });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/failed at (runner|docker)/);
    expect(run.output).toMatch(/manifest unknown|not found/);
    expect(run.output).toContain(missingImage);
  });
});
