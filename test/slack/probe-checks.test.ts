import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../src/setup/container-state.js';
import type { VmStatus } from '../../src/setup/probe.js';
import { parseRunnerErrors } from '../../src/setup/runner-errors.js';
import { probeChecks } from '../../src/slack/blocks/probe-checks.js';

const status = (usedPercent?: number): VmStatus => ({
  docker: '28.2.2',
  ...(usedPercent === undefined
    ? {}
    : { disk: { dir: '/var/lib/docker', mount: '/', usedPercent, freeBytes: 1.2e9 } }),
  network: true,
  runner: { name: 'vm-runner', state: undefined, healthy: false },
  delegate: { name: 'vm-1-delegate', state: undefined, healthy: false },
});

describe('/gitspaces status <vm> checks', () => {
  it("shows the disk of Docker's data after Docker, failing from 90%", () => {
    const at = (percent: number) => probeChecks(status(percent)).find((c) => c.id === 'disk');
    expect(
      probeChecks(status(40))
        .map((c) => c.id)
        .slice(0, 2),
    ).toEqual(['docker', 'disk']);
    expect(at(40)).toMatchObject({
      ok: true,
      detail: "40% used, 1.2 GB free (/ holds Docker's /var/lib/docker)",
    });
    expect(at(90)).toMatchObject({ ok: false });
  });

  it('leaves the disk out when df could not tell', () => {
    expect(probeChecks(status()).map((c) => c.id)).not.toContain('disk');
  });

  it('fails a Docker that does not start at boot, with the fix, and says nothing when systemd cannot tell', () => {
    const boot = (dockerAtBoot?: boolean) =>
      probeChecks({ ...status(40), ...(dockerAtBoot === undefined ? {} : { dockerAtBoot }) }).find(
        (c) => c.id === 'docker-boot',
      );
    expect(boot(false)).toMatchObject({ ok: false, title: 'Docker at boot' });
    expect(boot(false)?.detail).toContain('sudo systemctl enable docker');
    expect(boot(true)).toMatchObject({ ok: true, detail: 'docker.service enabled' });
    expect(boot()).toBeUndefined();
  });

  it('shows the errors a running runner logged in the last hour, with what to do, and nothing of a stopped one', () => {
    const runner = (state: string, errors?: string) =>
      probeChecks({
        ...status(40),
        runner: {
          name: 'vm-runner',
          state: { status: state } as ContainerState,
          healthy: state === 'running',
        },
        ...(errors === undefined ? {} : { runnerErrors: parseRunnerErrors(`2\n${errors}\n`) }),
      }).find((c) => c.id === 'runner-errors');
    expect(runner('running')).toMatchObject({ ok: true, detail: 'no error logged in the last hour' });
    const quota = runner(
      'running',
      'level=error msg="google: failed to provision VM" error="Quota \'CPUS\' exceeded"',
    );
    expect(quota?.ok).toBe(false);
    expect(quota?.detail).toBe(
      "logged 2 errors in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: Quota 'CPUS' exceeded — a Compute Engine quota of the project is used up: raise it (IAM & Admin → Quotas) or lower the pool's size in the pool file",
    );
    expect(runner('exited')).toBeUndefined();
  });

  it("fails the delegate's health with Harness's refusal of its token, and the fix", () => {
    const health = (tokenRefused?: 'invalid' | 'revoked' | 'expired') =>
      probeChecks({
        ...status(40),
        delegate: {
          name: 'vm-1-delegate',
          state: undefined,
          healthy: false,
          ...(tokenRefused ? { tokenRefused } : {}),
        },
      }).find((c) => c.id === 'delegate-health');
    expect(health()).toMatchObject({ ok: false, detail: 'not healthy' });
    expect(health('expired')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /^its token expired, so it is frozen and takes no tasks: create a delegate token/,
      ),
    });
    expect(health('invalid')?.detail).toMatch(/^Harness refuses its token/);
  });

  it('says how often Docker had to start a container again', () => {
    const state = {
      status: 'running',
      startedAt: '2026-12-04T10:00:00Z',
      image: 'drone/drone-runner-aws:latest',
      imageId: 'sha256:aa',
      specHash: '',
      poolHash: '',
      networks: {},
      restartPolicy: 'unless-stopped',
      ports: [],
      mounts: [],
      logs: { driver: 'json-file', options: {} },
    };
    const runner = (restarts?: number) =>
      probeChecks({
        ...status(),
        runner: { name: 'vm-runner', state: { ...state, ...(restarts ? { restarts } : {}) }, healthy: true },
      }).find((c) => c.id === 'runner')?.detail;
    expect(runner()).toBe('vm-runner running (drone/drone-runner-aws:latest)');
    expect(runner(1)).toBe(
      'vm-runner running (drone/drone-runner-aws:latest), restarted once after exiting by itself',
    );
    expect(runner(4)).toContain('restarted 4 times after exiting by itself');
  });
});
