import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { holdRunnerPort } from '../support/runner-port.js';
import { writeSecrets } from '../support/secrets-dir.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const CHILD = fileURLToPath(new URL('../support/cli-child.ts', import.meta.url));
const REPO = 'us-west1-docker.pkg.dev/gar-setup/docker/delegate';

let sshd: TestSshd;
let port3000: Awaited<ReturnType<typeof holdRunnerPort>>;
let env: NodeJS.ProcessEnv;

function io() {
  const stdout = Object.assign(new PassThrough(), { isTTY: false });
  const stderr = new PassThrough();
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const out: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => out.push(String(c)));
  return { io: { stdin, stdout, stderr }, out: () => out.join('') };
}

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
  'vm-up',
];
const delegates = () =>
  Object.values(sshd.dockerState().containers ?? {}).filter((c) => c.name.startsWith('vm-up-delegate'));

// Waits its turn for port 3000, which a test file holds as long as it runs (test/support/runner-port.ts).
beforeAll(async () => {
  sshd = await startSshd();
  port3000 = await holdRunnerPort();
  const secrets = writeSecrets(sshd.privateKey);
  env = {
    POOL_SECRET: secrets.refs.pool,
    DELEGATE_TOKEN_SECRET: secrets.refs.delegateToken,
    SSH_KEY_SECRET: secrets.refs.sshKey,
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_DIR: join(mkdtempSync(join(tmpdir(), 'gsb-up-')), 'runner'),
    RUNNER_HEALTH_TIMEOUT: '30s',
    DELEGATE_HEALTH_TIMEOUT: '30s',
    DELEGATE_STOP_TIMEOUT: '20s',
    HOME: mkdtempSync(join(tmpdir(), 'gsb-home-')),
  };
}, 420_000);
afterAll(async () => {
  await port3000?.release();
  await sshd?.stop();
});

describe('gitspaces-bot upgrade', () => {
  beforeEach(async () => {
    sshd.resetDocker();
    await sshd.setDockerEnv({});
  });

  it('prints old → new before it changes anything, even with --yes, and keeps the chosen tag', async () => {
    expect(await main(['setup', ...target(), '--yes'], env, io().io)).toBe(0);
    const up = io();
    expect(await main(['upgrade', ...target(), '--delegate', '26.11.87100', '--yes'], env, up.io)).toBe(0);
    const text = up.out();
    const asked = text.indexOf('Approval needed to change vm-up:');
    expect(asked).toBeGreaterThan(-1);
    expect(text).toContain(`vm-up-delegate: image ${REPO}:25.03.85504 (`);
    expect(text).toContain(`→ ${REPO}:26.11.87100 (`);
    expect(asked).toBeLessThan(text.indexOf('delegate '));
    expect(delegates().map((c) => `${c.name} ${c.image} ${c.status}`)).toEqual([
      `vm-up-delegate ${REPO}:26.11.87100 running`,
    ]);
    expect(delegates()[0]?.labels['io.harness.gitspaces.image']).toBe(`${REPO}:26.11.87100`);
    // A plain setup afterwards keeps the upgrade.
    const again = io();
    expect(await main(['setup', ...target(), '--yes'], env, again.io)).toBe(0);
    expect(again.out()).toContain('Every step was already in place');
  });

  it('refuses --delegate outside upgrade', async () => {
    const out = io();
    expect(await main(['setup', ...target(), '--delegate', '26.11.87100'], env, out.io)).toBe(2);
    expect(out.out()).toContain('--delegate and --runner belong to upgrade');
  });

  it('killed with SIGKILL between stopping the old delegate and starting the new, then run again: one delegate, the new one, healthy', async () => {
    expect(await main(['setup', ...target(), '--yes'], env, io().io)).toBe(0);
    // Each docker command lingers after doing its work, so the kill lands after `rename`, before `run`.
    await sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '500' });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, 'upgrade', ...target(), '--delegate', '26.11.87100', '--yes'],
      { env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    const exited = new Promise<string | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    const deadline = Date.now() + 90_000;
    while (!delegates().some((c) => c.name === 'vm-up-delegate-previous')) {
      if (Date.now() > deadline) throw new Error('the upgrade never set the old delegate aside');
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(delegates().filter((c) => c.status === 'running')).toEqual([]);
    await sshd.setDockerEnv({});
    const resumed = io();
    expect(await main(['upgrade', ...target(), '--delegate', '26.11.87100', '--yes'], env, resumed.io)).toBe(
      0,
    );
    expect(delegates().map((c) => `${c.name} ${c.image} ${c.status}`)).toEqual([
      `vm-up-delegate ${REPO}:26.11.87100 running`,
    ]);
    expect(resumed.out()).toContain('vm-up-delegate is healthy');
  }, 180_000);
});
