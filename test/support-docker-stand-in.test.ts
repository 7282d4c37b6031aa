/**
 * The Docker CLI stand-in of the fast tests behaves like the real engine where the bot's repairs depend on
 * it: networks by id, a start refused when its network is gone, images with ids that a re-pull changes,
 * logs since a start, restart policy, ports and mounts in inspect, and no socket access without root.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { copyStandIn } from './support/stand-in-files.js';

const base = mkdtempSync(join(tmpdir(), 'gsb-stand-in-'));
chmodSync(base, 0o755);
const bin = copyStandIn(base);
const docker = join(bin, 'docker');
const stateDir = join(base, 'state');
const runnerDir = join(base, 'runner');
const RUNNER = 'drone/drone-runner-aws:latest';
const DELEGATE = 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:25.03.85504';

afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(runnerDir, { recursive: true, force: true });
  mkdirSync(runnerDir);
  writeFileSync(join(runnerDir, 'pool.yml'), 'version: "1"\ninstances:\n  - name: linux-amd64\n');
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, uid?: number): Result {
  const out = spawnSync(process.execPath, ['--', docker, ...args], {
    env: { PATH: '/usr/bin:/bin', FAKE_DOCKER_STATE: stateDir, ...env },
    encoding: 'utf8',
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

function systemctl(args: string[], env: Record<string, string> = {}, uid?: number): Result {
  const out = spawnSync(join(bin, 'systemctl'), args, {
    env: { PATH: '/usr/bin:/bin', FAKE_DOCKER_STATE: stateDir, ...env },
    encoding: 'utf8',
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

function ok(args: string[], env: Record<string, string> = {}): string {
  const result = run(args, env);
  expect(result, `docker ${args.join(' ')}`).toMatchObject({ code: 0 });
  return result.stdout.trim();
}

const inspect = (name: string, format: string) =>
  ok(['inspect', '--type', 'container', '--format', format, name]);

const runRunner = (extra: string[] = [], env: Record<string, string> = {}) =>
  ok(
    [
      'run',
      '-d',
      '--name',
      'vm-runner',
      '--network',
      'harness',
      '-v',
      `${runnerDir}:/runner`,
      '-p',
      '3000:3000',
      '--restart',
      'unless-stopped',
      ...extra,
      RUNNER,
      'delegate',
      '--pool',
      '/runner/pool.yml',
    ],
    env,
  );

describe('networks', () => {
  it('gives a network recreated under the same name a new id, and refuses to start a container on the old one', () => {
    const first = ok(['network', 'create', 'harness']);
    runRunner();
    ok(['stop', 'vm-runner']);
    ok(['network', 'rm', 'harness']);
    const second = ok(['network', 'create', 'harness']);
    expect(second).toMatch(/^[0-9a-f]{64}$/);
    expect(second).not.toBe(first);
    expect(ok(['network', 'inspect', 'harness', '--format', '{{.Id}}'])).toBe(second);
    expect(
      inspect(
        'vm-runner',
        '{{range $name, $n := .NetworkSettings.Networks}}{{$name}}={{$n.NetworkID}}{{end}}',
      ),
    ).toBe(`harness=${first}`);
    const start = run(['start', 'vm-runner']);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`Error response from daemon: network ${first} not found`);
    expect(inspect('vm-runner', '{{.State.Status}}')).toBe('exited');
  });

  it('refuses to remove a network a running container uses, and prunes it once the container stopped', () => {
    ok(['network', 'create', 'harness']);
    runRunner();
    const refused = run(['network', 'rm', 'harness']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/has active endpoints/);
    ok(['stop', 'vm-runner']);
    expect(ok(['network', 'prune', '-f'])).toContain('harness');
    expect(run(['network', 'inspect', 'harness']).code).toBe(1);
  });

  it('detaches a container with network disconnect', () => {
    ok(['network', 'create', 'harness']);
    runRunner();
    ok(['network', 'disconnect', 'harness', 'vm-runner']);
    expect(inspect('vm-runner', '{{json .NetworkSettings.Networks}}')).toBe('{}');
    expect(inspect('vm-runner', '{{.HostConfig.NetworkMode}}')).toBe('harness');
    const again = run(['network', 'disconnect', 'harness', 'vm-runner']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not connected to network harness');
  });
});

describe('images', () => {
  it('pulls with layer progress, and a new push under the same tag gives a new id the container does not have', () => {
    const pulled = ok(['pull', RUNNER]);
    expect(pulled).toMatch(/^latest: Pulling from drone\/drone-runner-aws$/m);
    expect(pulled).toMatch(/^[0-9a-f]{12}: Pulling fs layer$/m);
    expect(pulled).toMatch(/^[0-9a-f]{12}: Pull complete$/m);
    expect(pulled).toMatch(/^Digest: sha256:[0-9a-f]{64}$/m);
    expect(pulled).toContain(`Status: Downloaded newer image for ${RUNNER}`);
    const id = ok(['image', 'inspect', '--format', '{{.Id}}', RUNNER]);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ok(['pull', RUNNER])).toContain(`Status: Image is up to date for ${RUNNER}`);

    ok(['network', 'create', 'harness']);
    runRunner();
    expect(inspect('vm-runner', '{{.Image}} {{.Config.Image}}')).toBe(`${id} ${RUNNER}`);
    writeFileSync(join(stateDir, 'registry.json'), JSON.stringify({ [RUNNER]: 'v2' }));
    ok(['pull', 'drone/drone-runner-aws']);
    const newer = ok(['image', 'inspect', '--format', '{{.Id}}', RUNNER]);
    expect(newer).not.toBe(id);
    expect(inspect('vm-runner', '{{.Image}}')).toBe(id);
  });

  it('fails a pull of an image the registry does not have, as Docker words it', () => {
    const unknown = run(['pull', 'acme/no-such-image:1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Error response from daemon: pull access denied for acme/no-such-image');
    writeFileSync(join(stateDir, 'registry.json'), JSON.stringify({ 'drone/drone-runner-aws:9.9': null }));
    const tag = run(['pull', 'drone/drone-runner-aws:9.9']);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toContain('manifest unknown');
    const missing = run(['image', 'inspect', 'acme/no-such-image:1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No such image');
  });
});

describe('containers', () => {
  it('shows the restart policy, published ports and mounts it was run with', () => {
    ok(['network', 'create', 'harness']);
    runRunner();
    expect(inspect('vm-runner', '{{.HostConfig.RestartPolicy.Name}}')).toBe('unless-stopped');
    expect(inspect('vm-runner', '{{json .HostConfig.PortBindings}}')).toBe(
      '{"3000/tcp":[{"HostIp":"","HostPort":"3000"}]}',
    );
    expect(inspect('vm-runner', '{{range .Mounts}}{{.Source}}:{{.Destination}}{{end}}')).toBe(
      `${runnerDir}:/runner`,
    );
    expect(inspect('vm-runner', '{{index .Config.Labels "nope"}}|{{.State.Running}}')).toBe('|true');
    const health = run(['inspect', '--format', '{{.State.Health.Status}}', 'vm-runner']);
    expect(health.code).toBe(1);
    expect(health.stderr).toContain('map has no entry for key "Health"');
  });

  it('keeps a runner without its pool file from starting: restarting with a restart policy, exited without', () => {
    ok(['network', 'create', 'harness']);
    rmSync(join(runnerDir, 'pool.yml'));
    runRunner();
    expect(inspect('vm-runner', '{{.State.Status}}')).toBe('restarting');
    const logs = run(['logs', 'vm-runner']);
    expect(logs.stdout + logs.stderr).toContain('Unable to load pool file');
    ok(['rm', '-f', 'vm-runner']);
    ok([
      'run',
      '-d',
      '--name',
      'vm-runner',
      '-v',
      `${runnerDir}:/runner`,
      RUNNER,
      'delegate',
      '--pool',
      '/runner/pool.yml',
    ]);
    expect(inspect('vm-runner', '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 1');
  });

  it('sets StartedAt on each start, and logs --since it shows only that start, hiding a stale registration', () => {
    ok(['network', 'create', 'harness']);
    ok([
      'run',
      '-d',
      '--name',
      'vm-1-delegate',
      '--network',
      'harness',
      '--restart',
      'unless-stopped',
      DELEGATE,
    ]);
    const firstStart = inspect('vm-1-delegate', '{{.State.StartedAt}}');
    expect(firstStart).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(ok(['logs', 'vm-1-delegate'])).toMatch(/Delegate registered with id \w+/);

    ok(['restart', 'vm-1-delegate'], { FAKE_DOCKER_UNHEALTHY: 'vm-1-delegate' });
    const secondStart = inspect('vm-1-delegate', '{{.State.StartedAt}}');
    expect(secondStart > firstStart).toBe(true);
    const all = ok(['logs', 'vm-1-delegate']);
    expect(all.match(/Delegate process started/g)).toHaveLength(2);
    expect(all).toContain('Delegate registered with id');
    const since = ok(['logs', '--since', secondStart, 'vm-1-delegate']);
    expect(since).toContain('Delegate process started');
    expect(since).not.toContain('Delegate registered with id');
    const unix = (BigInt(Date.parse(secondStart)) / 1000n).toString();
    expect(ok(['logs', '--since', unix, '--tail', '1', 'vm-1-delegate'])).toContain('invalid token');
  });

  it('has a frozen delegate answer its health check, and a runner over quota log its error on stderr', () => {
    ok(['network', 'create', 'harness']);
    runRunner([], { FAKE_DOCKER_QUOTA: 'vm-runner' });
    const runnerLogs = run(['logs', '--since', '1h', 'vm-runner']);
    expect(runnerLogs.stderr).toMatch(
      /level=error msg="google: failed to provision VM" error="googleapi: Error 403: Quota 'CPUS' exceeded/,
    );
    ok(['run', '-d', '--name', 'vm-1-delegate', '--network', 'harness', DELEGATE], {
      FAKE_DOCKER_REVOKED: 'vm-1-delegate',
    });
    expect(run(['exec', 'vm-1-delegate', 'curl', '-fs', 'localhost:3460/api/health']).code).toBe(0);
    expect(ok(['logs', 'vm-1-delegate'])).toMatch(
      /Delegate registered with id \S+\nDelegate used revoked token\. It will be frozen and drained\.$/,
    );
  });

  it('answers the delegate health check inside it, and has no curl in the runner', () => {
    ok(['network', 'create', 'harness']);
    runRunner();
    ok(['run', '-d', '--name', 'vm-1-delegate', '--network', 'harness', DELEGATE]);
    expect(run(['exec', 'vm-1-delegate', 'curl', '-fs', 'localhost:3460/api/health']).code).toBe(0);
    expect(run(['exec', 'vm-1-delegate', 'curl', '-fsS', 'http://vm-runner:3000/healthz'])).toMatchObject({
      code: 0,
      stdout: 'OK',
    });
    expect(run(['exec', 'vm-runner', 'curl', '-fs', 'localhost:3000/healthz']).code).toBe(126);
    ok(['network', 'disconnect', 'harness', 'vm-runner']);
    expect(run(['exec', 'vm-1-delegate', 'curl', '-fsS', 'http://vm-runner:3000/healthz'])).toMatchObject({
      code: 6,
      stderr: 'curl: (6) Could not resolve host: vm-runner\n',
    });
  });

  it('holds a name until the container is removed, and rm -f of a missing one still exits 0', () => {
    ok(['network', 'create', 'harness']);
    const id = runRunner();
    const again = run(['run', '-d', '--name', 'vm-runner', RUNNER]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain(`The container name "/vm-runner" is already in use by container "${id}"`);
    ok(['rename', 'vm-runner', 'vm-runner-old']);
    expect(inspect('vm-runner-old', '{{.Id}}')).toBe(id);
    expect(run(['rm', '-f', 'vm-runner'])).toMatchObject({
      code: 0,
      stderr: expect.stringContaining('No such container'),
    });
  });
});

describe('the daemon socket', () => {
  it('refuses a caller that is not root, as for a user outside the docker group', () => {
    mkdirSync(stateDir);
    chmodSync(stateDir, 0o1777);
    const denied = run(['ps'], {}, 65534);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock',
    );
    expect(run(['--version'], {}, 65534)).toMatchObject({ code: 0 });
  });

  it('answers info --format with an empty line and exit 0 when the daemon is down, as 27.x does', () => {
    const info = run(['info', '--format', '{{.ServerVersion}}'], { FAKE_DOCKER_NO_DAEMON: '1' });
    expect(info).toMatchObject({ code: 0, stdout: '\n' });
    expect(info.stderr).toContain('Cannot connect to the Docker daemon');
    expect(ok(['info', '--format', '{{.ServerVersion}}'])).toBe('27.3.1');
  });

  it('fails injected commands with their exit code and changes nothing', () => {
    const failed = run(['run', '-d', '--name', 'x', RUNNER], { FAKE_DOCKER_FAIL: 'run:125' });
    expect(failed.code).toBe(125);
    expect(failed.stderr).toContain('injected failure');
    expect(run(['inspect', 'x']).code).toBe(1);
  });

  it('records every call, parallel ones included, without losing a change', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `net-${i}`);
    await Promise.all(
      names.map(
        (name) =>
          new Promise<void>((resolve, reject) =>
            execFile(
              process.execPath,
              ['--', docker, 'network', 'create', name],
              { env: { FAKE_DOCKER_STATE: stateDir } },
              (error) => (error ? reject(error) : resolve()),
            ),
          ),
      ),
    );
    expect(ok(['network', 'ls', '--format', '{{.Name}}']).split('\n').sort()).toEqual(
      ['bridge', 'host', 'none', ...names].sort(),
    );
    const calls = readFileSync(join(stateDir, 'calls.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { argv: string[]; uid: number });
    expect(calls.filter((c) => c.argv[1] === 'create')).toHaveLength(8);
    expect(calls[0]?.uid).toBe(0);
  });
});

describe('systemctl for docker.service', () => {
  const down = { FAKE_DOCKER_NO_DAEMON: '1', FAKE_DOCKER_AT_BOOT: 'disabled' };

  it('says disabled with exit 1 as the VM came, enabled once root enabled it, to anyone who asks', () => {
    mkdirSync(stateDir);
    chmodSync(stateDir, 0o1777);
    expect(systemctl(['is-enabled', 'docker'])).toMatchObject({ code: 0, stdout: 'enabled\n' });
    expect(systemctl(['is-enabled', 'docker'], down, 65534)).toMatchObject({ code: 1, stdout: 'disabled\n' });
    const refused = systemctl(['enable', 'docker'], down, 65534);
    expect(refused).toMatchObject({ code: 1 });
    expect(refused.stderr).toContain('Access denied');
    expect(systemctl(['enable', 'docker'], down)).toMatchObject({ code: 0 });
    expect(systemctl(['is-enabled', 'docker'], down, 65534)).toMatchObject({ code: 0, stdout: 'enabled\n' });
    // Enabled is not started: the daemon answers only after a start.
    expect(run(['info', '--format', '{{.ServerVersion}}'], down).stdout).toBe('\n');
  });

  it('starts a stopped daemon with start or enable --now', () => {
    for (const start of [
      ['start', 'docker'],
      ['enable', '--now', 'docker'],
    ]) {
      rmSync(stateDir, { recursive: true, force: true });
      mkdirSync(stateDir);
      expect(run(['info', '--format', '{{.ServerVersion}}'], down).stdout).toBe('\n');
      expect(systemctl(start, down)).toMatchObject({ code: 0 });
      expect(ok(['info', '--format', '{{.ServerVersion}}'], down)).toBe('27.3.1');
    }
  });

  it('knows no other unit', () => {
    const other = systemctl(['is-enabled', 'containerd']);
    expect(other).toMatchObject({ code: 1, stdout: '' });
    expect(other.stderr).toContain('containerd.service: No such file or directory');
  });
});

describe('docker events', () => {
  const FORMAT = '{{.Actor.Attributes.name}} {{.Action}} {{index .Actor.Attributes "exitCode"}}';
  const window = () => ['--since', '24h', '--until', String(Math.ceil(Date.now() / 1000))];

  it('lists the exits of a window with their exit codes, filtered by container id, and refuses to wait for ever', () => {
    ok(['network', 'create', 'harness']);
    runRunner();
    ok(['stop', 'vm-runner']);
    const id = inspect('vm-runner', '{{.Id}}');
    const mine = ['--filter', `container=${id}`, '--filter', 'event=die', '--format', FORMAT];
    expect(ok(['events', ...window(), ...mine])).toBe('vm-runner die 0');
    // The same name, created again: another id, whose events are its own.
    ok(['rm', 'vm-runner']);
    runRunner();
    const again = ['--filter', `container=${inspect('vm-runner', '{{.Id}}')}`, '--format', FORMAT];
    expect(ok(['events', ...window(), ...again])).toBe('');
    const forever = run(['events', '--since', '24h']);
    expect(forever.code).toBe(1);
    expect(forever.stderr).toContain('without --until');
  });
});
