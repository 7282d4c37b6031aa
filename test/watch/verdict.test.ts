/**
 * What a channel is told about a watched VM across probes: changes only, a lasting failure again once a day,
 * nothing while muted, and what differs from the last notice once unmuted.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../src/setup/container-state.js';
import type { VmStatus } from '../../src/setup/probe.js';
import { parseRunnerErrors } from '../../src/setup/runner-errors.js';
import { decide, type Outcome, REPEAT_MS, type Verdict, type WatchState } from '../../src/watch/verdict.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const MIN = 60_000;

function container(over: Partial<ContainerState> = {}): ContainerState {
  return {
    status: 'running',
    startedAt: '2026-12-04T10:00:00Z',
    image: 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:26.11.87100',
    imageId: 'sha256:aaaaaaaaaaaaaaaa',
    specHash: 'spec1',
    poolHash: 'pool1',
    networks: { harness: 'net1' },
    restartPolicy: 'unless-stopped',
    ports: [],
    mounts: [],
    logs: { driver: 'json-file', options: { 'max-size': '20m', 'max-file': '5' } },
    ...over,
  };
}

function status(delegate: Partial<ContainerState> | 'missing' = {}, healthy = true): Outcome {
  const s: VmStatus = {
    docker: '27.3.1',
    network: true,
    runner: {
      name: 'vm-runner',
      state: container({ image: 'drone/drone-runner-aws:latest' }),
      healthy: true,
    },
    delegate: {
      name: 'vm-1-delegate',
      state: delegate === 'missing' ? undefined : container(delegate),
      healthy: delegate !== 'missing' && healthy && (delegate.status ?? 'running') === 'running',
    },
  };
  return { kind: 'probed', status: s };
}

/** Probes in a row, each at its own time, carrying the state on like the store does. */
function probes(steps: Array<{ at: number; outcome: Outcome; mutedUntil?: number }>): Verdict[] {
  let state: WatchState = {
    vm: 'vm-1',
    network: 'harness',
    since: NOW - 60 * MIN,
    told: undefined,
    mutedUntil: undefined,
    baseline: undefined,
  };
  return steps.map(({ at, outcome, mutedUntil }) => {
    const verdict = decide({ ...state, mutedUntil }, outcome, at);
    state = { ...state, told: verdict.told, baseline: verdict.baseline };
    return verdict;
  });
}

const kinds = (v: Verdict) => v.notices.map((n) => n.kind);
const exited = { status: 'exited', exitCode: 1, finishedAt: '2026-12-04T12:12:00Z' };

describe('watch verdicts', () => {
  it('tells a VM going unhealthy once, with what failed and since when, and its recovery once', () => {
    const v = probes([
      { at: NOW, outcome: status() },
      { at: NOW + 15 * MIN, outcome: status(exited) },
      { at: NOW + 30 * MIN, outcome: status(exited) },
      { at: NOW + 45 * MIN, outcome: status() },
      { at: NOW + 60 * MIN, outcome: status() },
    ]);
    expect(v.map(kinds)).toEqual([[], ['unhealthy'], [], ['recovered'], []]);
    const notice = v[1]?.notices[0];
    expect(notice?.lines).toEqual(['vm-1 is unhealthy', 'delegate vm-1-delegate exited (1) 3 min ago']);
    expect(notice?.repair).toBe(true);
    expect(notice?.logsOf).toEqual(['vm-1-delegate']);
    expect(v[1]?.probe.health).toBe('unhealthy');
  });

  it('tells a failure that lasts again after a day, not before', () => {
    const v = probes([
      { at: NOW, outcome: status('missing') },
      { at: NOW + REPEAT_MS - MIN, outcome: status('missing') },
      { at: NOW + REPEAT_MS, outcome: status('missing') },
      { at: NOW + REPEAT_MS + 15 * MIN, outcome: status('missing') },
    ]);
    expect(v.map(kinds)).toEqual([['unhealthy'], [], ['unhealthy'], []]);
    expect(v[2]?.notices[0]?.lines[0]).toBe('vm-1 is still unhealthy');
  });

  it('tells a different failure as a new one', () => {
    const v = probes([
      { at: NOW, outcome: status('missing') },
      { at: NOW + MIN, outcome: status(exited) },
    ]);
    expect(v.map(kinds)).toEqual([['unhealthy'], ['unhealthy']]);
  });

  it('tells "could not probe" apart from unhealthy, and does not take it for a recovery', () => {
    const v = probes([
      { at: NOW, outcome: { kind: 'unreachable', message: 'SSH to 10.0.0.7:22 timed out' } },
      { at: NOW + MIN, outcome: { kind: 'unreachable', message: 'SSH to 10.0.0.7:22 timed out' } },
      { at: NOW + 2 * MIN, outcome: status() },
    ]);
    expect(v.map(kinds)).toEqual([['unreachable'], [], ['recovered']]);
    expect(v[0]?.notices[0]?.lines).toEqual(['could not probe vm-1: SSH to 10.0.0.7:22 timed out']);
    expect(v[0]?.notices[0]?.repair).toBe(false);
  });

  it('says how to stop watching a VM Google no longer has, once', () => {
    const gone = {
      kind: 'unreachable',
      message: 'Google has no VM named vm-1 any more',
      gone: true,
    } as const;
    const v = probes([
      { at: NOW, outcome: gone },
      { at: NOW + MIN, outcome: gone },
    ]);
    expect(v.map(kinds)).toEqual([['unreachable'], []]);
    expect(v[0]?.notices[0]?.lines).toEqual([
      'could not probe vm-1: Google has no VM named vm-1 any more',
      'if it was deleted, `/gitspaces forget vm-1` stops watching it',
    ]);
  });

  it('tells nothing while muted, then what differs from the last notice once unmuted', () => {
    const until = NOW + 30 * MIN;
    const v = probes([
      { at: NOW, outcome: status(exited), mutedUntil: until },
      { at: NOW + 15 * MIN, outcome: status(exited), mutedUntil: until },
      { at: NOW + 45 * MIN, outcome: status(exited), mutedUntil: until },
    ]);
    expect(v.map(kinds)).toEqual([[], [], ['unhealthy']]);
    const back = probes([
      { at: NOW, outcome: status(exited), mutedUntil: until },
      { at: NOW + 45 * MIN, outcome: status() },
    ]);
    // It failed and recovered while muted: the channel was last told "healthy", which it is.
    expect(back.map(kinds)).toEqual([[], []]);
  });

  it('tells drift from the containers as first seen healthy: what differs, once', () => {
    const v = probes([
      { at: NOW, outcome: status() },
      { at: NOW + MIN, outcome: status({ restartPolicy: 'no' }) },
      { at: NOW + 2 * MIN, outcome: status({ restartPolicy: 'no' }) },
    ]);
    expect(v.map(kinds)).toEqual([[], ['drift'], []]);
    expect(v[1]?.notices[0]?.lines).toEqual([
      'vm-1 drifted from its setup',
      'delegate vm-1-delegate: restart policy unless-stopped → no',
    ]);
  });

  it('tells the delegate past 6 and past 8 months once each, also when it was already at the first probe', () => {
    const old = { image: 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:26.05.85000' };
    const v = probes([
      { at: NOW, outcome: status(old) },
      { at: NOW + MIN, outcome: status(old) },
      { at: Date.parse('2027-01-05T00:00:00Z'), outcome: status(old) },
      { at: Date.parse('2027-02-05T00:00:00Z'), outcome: status(old) },
    ]);
    expect(v.map(kinds)).toEqual([['age'], [], ['age'], []]);
    expect(v[0]?.notices[0]?.lines[0]).toBe(
      "vm-1: delegate 26.05.85000 is 7 months old, past Harness's 6-month support",
    );
    expect(v[2]?.notices[0]?.lines[0]).toBe(
      'vm-1: delegate 26.05.85000 is 8 months old, past its 8-month life',
    );
  });

  it('names the latest supported tag in the upgrade it offers, when Harness told it', () => {
    const old = status({ image: 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:26.05.85000' });
    const told = (outcome: Outcome) => probes([{ at: NOW, outcome }])[0]?.notices[0]?.lines[1];
    expect(told(old)).toBe('upgrade it with `/gitspaces upgrade vm-1 delegate=<tag>`');
    if (old.kind === 'probed')
      old.status.delegateAge = {
        text: 'delegate 26.05.85000 is 7 months old',
        stale: true,
        latest: '26.11.87100',
      };
    expect(told(old)).toBe('upgrade it with `/gitspaces upgrade vm-1 delegate=26.11.87100`');
  });

  it('tells a disk nearly full once, not at each wobble around the line, and again after it was freed', () => {
    const disk = (usedPercent: number): Outcome => {
      const probed = status();
      if (probed.kind === 'probed')
        probed.status.disk = { dir: '/var/lib/docker', mount: '/', usedPercent, freeBytes: 700e6 };
      return probed;
    };
    const v = probes([
      { at: NOW, outcome: disk(70) },
      { at: NOW + MIN, outcome: disk(91) },
      { at: NOW + 2 * MIN, outcome: disk(89) },
      { at: NOW + 3 * MIN, outcome: disk(92) },
      { at: NOW + 4 * MIN, outcome: disk(40) },
      { at: NOW + 5 * MIN, outcome: disk(95) },
      { at: NOW + 6 * MIN, outcome: status() },
    ]);
    expect(v.map(kinds)).toEqual([[], ['disk'], [], [], [], ['disk'], []]);
    expect(v[1]?.notices[0]?.lines[0]).toBe(
      "vm-1: the disk is nearly full, 91% used, 700 MB free (/ holds Docker's /var/lib/docker)",
    );
    expect(v[1]?.notices[0]?.lines[1]).toContain('docker system df');
    expect(v.map((x) => x.probe.diskPercent)).toEqual([70, 91, 89, 92, 40, 95, undefined]);
  });

  it('tells once that Docker does not start at boot, with Repair, and again only after it was fixed and undone', () => {
    const boot = (atBoot: boolean | undefined): Outcome => {
      const probed = status();
      if (probed.kind === 'probed' && atBoot !== undefined) probed.status.dockerAtBoot = atBoot;
      return probed;
    };
    const v = probes([
      { at: NOW, outcome: boot(true) },
      { at: NOW + MIN, outcome: boot(false) },
      { at: NOW + 2 * MIN, outcome: boot(false) },
      { at: NOW + 3 * MIN, outcome: boot(undefined) },
      { at: NOW + 4 * MIN, outcome: boot(false) },
      { at: NOW + 5 * MIN, outcome: boot(true) },
      { at: NOW + 6 * MIN, outcome: boot(false) },
      { at: NOW + 7 * MIN, outcome: boot(false), mutedUntil: NOW + 8 * MIN },
    ]);
    expect(v.map(kinds)).toEqual([[], ['boot'], [], [], [], [], ['boot'], []]);
    const notice = v[1]?.notices[0];
    expect(notice?.lines[0]).toBe(
      'vm-1: Docker does not start at boot (docker.service is disabled): after the VM restarts, the runner and the delegate stay down',
    );
    expect(notice?.repair).toBe(true);
    // A healthy VM stays healthy: the notice is of a risk, not of a failure.
    expect(v.map((x) => x.probe.health)).toEqual(Array(8).fill('healthy'));
  });

  it('tells of a delegate that crashed and came back between probes, at most once a day, counting meanwhile', () => {
    const restarted = (restarts: number, status = 'running') => ({ restarts, status });
    const H = 60 * MIN;
    const v = probes([
      { at: NOW, outcome: status(restarted(0)) },
      { at: NOW + 15 * MIN, outcome: status(restarted(0)) },
      { at: NOW + 30 * MIN, outcome: status(restarted(2)) },
      { at: NOW + 45 * MIN, outcome: status(restarted(2)) },
      // Crashing again within the day: counted, not told.
      { at: NOW + 2 * H, outcome: status(restarted(3)) },
      { at: NOW + 5 * H, outcome: status(restarted(5)) },
      { at: NOW + 26 * H, outcome: status(restarted(5)) },
      // Recreated (an upgrade): its count starts again from 0, which is no crash.
      { at: NOW + 27 * H, outcome: status(restarted(0)) },
      // A crash within a day of the last notice waits for the day to pass.
      { at: NOW + 28 * H, outcome: status(restarted(1)) },
    ]);
    expect(v.map(kinds)).toEqual([[], [], ['restarted'], [], [], [], ['restarted'], [], []]);
    const first = v[2]?.notices[0];
    expect(first?.lines).toEqual([
      'vm-1: delegate vm-1-delegate exited by itself and Docker started it again, 2 times in the last 15 min; it runs now',
      'what it printed before it exited: `/gitspaces logs vm-1 delegate 300`',
    ]);
    expect(first?.repair).toBe(false);
    expect(v[6]?.notices[0]?.lines[0]).toContain('3 times in the last 25 h');
  });

  it("counts a container created again under the name from its own start, by Docker's id", () => {
    const v = probes([
      { at: NOW, outcome: status({ id: 'old', restarts: 3 }) },
      // Replaced by an upgrade, and crashed twice since: the old one's 3 are not taken off the new one's 2.
      { at: NOW + 15 * MIN, outcome: status({ id: 'new', restarts: 2 }) },
    ]);
    expect(v.map(kinds)).toEqual([[], ['restarted']]);
    expect(v[1]?.notices[0]?.lines[0]).toContain('2 times in the last 15 min');
  });

  it('leaves a delegate still down after crashing to the health notice, both saying what Docker told of its exits', () => {
    const withExits = (outcome: Outcome, outOfMemory: number): Outcome => {
      if (outcome.kind === 'probed')
        outcome.status.delegate.exits = { count: outOfMemory + 1, outOfMemory, lastCode: 137 };
      return outcome;
    };
    const v = probes([
      { at: NOW, outcome: status({ restarts: 0 }) },
      { at: NOW + 15 * MIN, outcome: withExits(status({ ...exited, exitCode: 137, restarts: 4 }), 4) },
      { at: NOW + 30 * MIN, outcome: withExits(status({ restarts: 5 }), 5) },
    ]);
    expect(v.map(kinds)).toEqual([[], ['unhealthy'], ['recovered', 'restarted']]);
    expect(v[1]?.notices[0]?.lines[1]).toBe(
      'delegate vm-1-delegate exited (137) 3 min ago; exited 5 times in the last 24 h, killed for lack of memory 4 times; last exit code 137',
    );
    expect(v[2]?.notices[1]?.lines[0]).toContain(
      '5 times in the last 30 min; it runs now (exited 6 times in the last 24 h, killed for lack of memory 5 times; last exit code 137)',
    );
  });

  it("tells the runner's errors once, again for another cause or a day later, and never calls the VM unhealthy", () => {
    const QUOTA = "googleapi: Error 403: Quota 'CPUS' exceeded";
    const KEY = 'oauth2: \\"invalid_grant\\" \\"Invalid JWT Signature.\\"';
    const withErrors = (last?: string): Outcome => {
      const probed = status();
      if (probed.kind === 'probed' && last !== undefined)
        probed.status.runnerErrors = parseRunnerErrors(
          `4\nlevel=error msg="google: failed to provision VM" error="${last}"\n`,
        );
      return probed;
    };
    const v = probes([
      { at: NOW, outcome: withErrors() },
      { at: NOW + 15 * MIN, outcome: withErrors(QUOTA) },
      { at: NOW + 30 * MIN, outcome: withErrors(QUOTA) },
      { at: NOW + 45 * MIN, outcome: withErrors() },
      { at: NOW + 60 * MIN, outcome: withErrors(QUOTA) },
      { at: NOW + 75 * MIN, outcome: withErrors(KEY) },
      { at: NOW + 90 * MIN, outcome: withErrors(QUOTA), mutedUntil: NOW + 100 * MIN },
      { at: NOW + 74 * MIN + REPEAT_MS, outcome: withErrors(KEY) },
      { at: NOW + 75 * MIN + REPEAT_MS, outcome: withErrors(KEY) },
    ]);
    const told = [[], ['runner-errors'], [], [], [], ['runner-errors'], [], [], ['runner-errors']];
    expect(v.map(kinds)).toEqual(told);
    expect(v[1]?.notices[0]?.lines).toEqual([
      `vm-1: vm-runner logged 4 errors in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: ${QUOTA}`,
      "a Compute Engine quota of the project is used up: raise it (IAM & Admin → Quotas) or lower the pool's size in the pool file",
      'its log: `/gitspaces logs vm-1 runner 300`',
    ]);
    expect(v[5]?.notices[0]?.lines[1]).toContain('RUNNER_SA_KEY_SECRET');
    // What `/gitspaces watch` and the App Home show of the last probe.
    expect(v.slice(0, 4).map((x) => x.probe.runnerErrors)).toEqual([undefined, 4, 4, undefined]);
    expect(v.map((x) => x.probe.health)).toEqual(Array(9).fill('healthy'));
  });
});
