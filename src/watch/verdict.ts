/**
 * What a probe tells the channel: only changes. Healthy → unhealthy, unhealthy → healthy, "could not
 * probe" (Google or SSH unreachable, which says nothing of the VM's health), drift, the delegate image
 * past 6 and past 8 months, Docker's disk nearly full, Docker not started at boot, containers that
 * crashed and were restarted by Docker in between, and the runner's errors (its /healthz says nothing of
 * them). The same failure is told once, then again at most once a day. While the VM is muted nothing is
 * told and what the channel was last told stays as it was, so the first probe after unmuting tells whatever
 * differs from it. Pure: the caller passes the time.
 */
import { RUNNER_NAME } from '../setup/container-specs.js';
import { delegateAgeMonths, imageTag, LIFE_MONTHS, SUPPORT_MONTHS } from '../setup/delegate-age.js';
import { NOT_AT_BOOT } from '../setup/docker-boot.js';
import { DISK_FULL_PERCENT, type DockerDisk, describeDisk } from '../setup/docker-disk.js';
import type { VmStatus } from '../setup/probe.js';
import { describeRunnerErrors, type RunnerErrors } from '../setup/runner-errors.js';
import { assess, baselineOf, driftOf, type Fingerprint } from './assess.js';
import { type RestartsSeen, restartsAt } from './restarts.js';

export type Health = 'healthy' | 'unhealthy' | 'unreachable';

/** What the channel was last told about the VM. */
export interface Told {
  health: Health;
  /** The problems' keys (or the probe's error) as told; '' when healthy. */
  key: string;
  at: number;
  /** The drift told ('' for none). */
  drift?: string;
  /** The delegate age already told (6 or 8 months), and of which image: a new image starts again. */
  age?: number;
  ageImage?: string;
  /** The disk was told to be nearly full: not again until it has gone well below that. */
  diskFull?: boolean;
  /** Docker was told not to start at boot: not again until it does. */
  notAtBoot?: boolean;
  /** The containers' restart counts, and when restarts were last told. */
  restarts?: RestartsSeen;
  /** When the runner's errors were last told, and of which known cause ('' for another). */
  runnerErrors?: { at: number; cause: string };
}

/** The last probe, as `/gitspaces watch` and the App Home show it. */
export interface ProbeSummary {
  at: number;
  health: Health;
  problems: string[];
  delegateImage?: string;
  delegateAgeMonths?: number;
  /** How full the disk of Docker's data was, when df could tell. */
  diskPercent?: number;
  /** The error lines the runner logged in the hour before the probe, when it logged any. */
  runnerErrors?: number;
}

export type Outcome =
  | { kind: 'probed'; status: VmStatus }
  /** `gone`: Google has no such VM any more (deleted, or renamed). */
  | { kind: 'unreachable'; message: string; gone?: boolean };

export type NoticeKind =
  | 'unhealthy'
  | 'recovered'
  | 'unreachable'
  | 'drift'
  | 'age'
  | 'disk'
  | 'boot'
  | 'restarted'
  | 'runner-errors';

export interface Notice {
  kind: NoticeKind;
  vm: string;
  /** One line each, in order. */
  lines: string[];
  /** Containers whose last log lines go with the notice. */
  logsOf: string[];
  /** Offer to set the VM up again. */
  repair: boolean;
}

export interface WatchState {
  vm: string;
  network: string;
  /** When the VM was last set up: what "healthy" was last told at, when nothing was told since. */
  since: number;
  told: Told | undefined;
  mutedUntil: number | undefined;
  /** Each container's fingerprint once the VM was first seen healthy after its last run. */
  baseline: Record<string, Fingerprint> | undefined;
}

export interface Verdict {
  probe: ProbeSummary;
  told: Told;
  baseline: Record<string, Fingerprint> | undefined;
  notices: Notice[];
}

/** A failure that goes on is told again at most this often. */
export const REPEAT_MS = 24 * 3600_000;

function healthNotice(
  state: WatchState,
  health: Health,
  lines: string[],
  logsOf: string[],
  again: boolean,
): Notice {
  const vm = state.vm;
  const still = again ? ' still' : '';
  switch (health) {
    case 'healthy':
      return { kind: 'recovered', vm, lines: [`${vm} is healthy again`], logsOf: [], repair: false };
    case 'unhealthy':
      return { kind: 'unhealthy', vm, lines: [`${vm} is${still} unhealthy`, ...lines], logsOf, repair: true };
    case 'unreachable':
      return {
        kind: 'unreachable',
        vm,
        lines: [`could not probe ${vm}: ${lines[0] ?? ''}`, ...lines.slice(1)],
        logsOf: [],
        repair: false,
      };
  }
}

function ageNotice(vm: string, image: string, months: number, latest = '<tag>'): Notice {
  const limit =
    months >= LIFE_MONTHS
      ? `past its ${LIFE_MONTHS}-month life`
      : `past Harness's ${SUPPORT_MONTHS}-month support`;
  return {
    kind: 'age',
    vm,
    lines: [
      `${vm}: delegate ${imageTag(image) || image} is ${months} months old, ${limit}`,
      `upgrade it with \`/gitspaces upgrade ${vm} delegate=${latest}\``,
    ],
    logsOf: [],
    repair: false,
  };
}

function diskNotice(vm: string, disk: DockerDisk): Notice {
  return {
    kind: 'disk',
    vm,
    lines: [
      `${vm}: the disk is nearly full, ${describeDisk(disk)}`,
      'see what takes it with `sudo docker system df` on the VM; remove images no container uses (`sudo docker image prune -a`) or grow the disk',
    ],
    logsOf: [],
    repair: false,
  };
}

/** Told once at DISK_FULL_PERCENT; told again only after it went 5 points below (no notice per wobble). */
function diskTold(told: Told, disk: DockerDisk | undefined, vm: string): Notice[] {
  if (disk === undefined) return [];
  const full = disk.usedPercent >= DISK_FULL_PERCENT;
  const notices = full && !told.diskFull ? [diskNotice(vm, disk)] : [];
  if (full) told.diskFull = true;
  else if (disk.usedPercent < DISK_FULL_PERCENT - 5) told.diskFull = false;
  return notices;
}

/** Told once while docker.service stays disabled; the Repair button's setup enables it. */
function bootTold(told: Told, atBoot: boolean | undefined, vm: string): Notice[] {
  if (atBoot === undefined) return [];
  const tell = !atBoot && !told.notAtBoot;
  told.notAtBoot = !atBoot;
  if (!tell) return [];
  const fix = 'Repair (a setup) makes it start at boot; so does `sudo systemctl enable docker` on the VM';
  return [{ kind: 'boot', vm, lines: [`${vm}: ${NOT_AT_BOOT}`, fix], logsOf: [], repair: true }];
}

/** Told when the runner logs errors; again for another known cause, or a day later while they go on. */
function runnerErrorsTold(told: Told, errors: RunnerErrors | undefined, vm: string, now: number): Notice[] {
  if (errors === undefined) return [];
  const cause = errors.fix ?? '';
  const last = told.runnerErrors;
  if (last !== undefined && last.cause === cause && now - last.at < REPEAT_MS) return [];
  told.runnerErrors = { at: now, cause };
  const lines = [
    `${vm}: ${RUNNER_NAME} ${describeRunnerErrors(errors)}`,
    ...(errors.fix === undefined ? [] : [errors.fix]),
    `its log: \`/gitspaces logs ${vm} runner 300\``,
  ];
  return [{ kind: 'runner-errors', vm, lines, logsOf: [], repair: false }];
}

/**
 * What a probe tells besides health and drift: the disk, Docker at boot, containers that crashed meanwhile,
 * the runner's errors.
 */
function conditionsTold(told: Told, status: VmStatus, vm: string, now: number): Notice[] {
  const notices = [
    ...diskTold(told, status.disk, vm),
    ...bootTold(told, status.dockerAtBoot, vm),
    ...runnerErrorsTold(told, status.runnerErrors, vm, now),
  ];
  const restarts = restartsAt(status, told.restarts, now, REPEAT_MS, vm);
  told.restarts = restarts.seen;
  if (restarts.lines.length > 0) {
    const lines = [`${vm}: ${restarts.lines[0]}`, ...restarts.lines.slice(1)];
    notices.push({ kind: 'restarted', vm, lines, logsOf: [], repair: false });
  }
  return notices;
}

export function decide(state: WatchState, outcome: Outcome, now: number): Verdict {
  const told: Told = { ...(state.told ?? { health: 'healthy', key: '', at: state.since }) };
  const muted = state.mutedUntil !== undefined && state.mutedUntil > now;
  const notices: Notice[] = [];
  let baseline = state.baseline;

  let health: Health;
  let key: string;
  let lines: string[];
  let logsOf: string[] = [];
  const probe: ProbeSummary = { at: now, health: 'healthy', problems: [] };
  if (outcome.kind === 'unreachable') {
    health = 'unreachable';
    key = outcome.message;
    lines = [outcome.message];
    if (outcome.gone) lines.push(`if it was deleted, \`/gitspaces forget ${state.vm}\` stops watching it`);
  } else {
    const found = assess(outcome.status, state.network, now);
    health = found.healthy ? 'healthy' : 'unhealthy';
    key = found.problems.map((p) => p.key).join('; ');
    lines = found.problems.map((p) => p.text);
    logsOf = found.problems.flatMap((p) => (p.container ? [p.container] : []));
    if (outcome.status.disk) probe.diskPercent = outcome.status.disk.usedPercent;
    if (outcome.status.runnerErrors) probe.runnerErrors = outcome.status.runnerErrors.count;
    const image = outcome.status.delegate.state?.image;
    if (image !== undefined) {
      probe.delegateImage = image;
      const months = delegateAgeMonths(image, now);
      if (months !== undefined) probe.delegateAgeMonths = months;
    }
  }
  probe.health = health;
  probe.problems = health === 'healthy' ? [] : lines;
  if (muted) return { probe, told, baseline, notices };

  if (health !== told.health || key !== told.key) {
    notices.push(healthNotice(state, health, lines, logsOf, false));
    Object.assign(told, { health, key, at: now });
  } else if (health !== 'healthy' && now - told.at >= REPEAT_MS) {
    notices.push(healthNotice(state, health, lines, logsOf, true));
    told.at = now;
  }

  if (outcome.kind === 'probed' && outcome.status.docker) {
    if (baseline === undefined && health === 'healthy') baseline = baselineOf(outcome.status);
    const drift = baseline === undefined ? [] : driftOf(outcome.status, baseline);
    const driftKey = drift.join('; ');
    if (driftKey !== '' && driftKey !== (told.drift ?? ''))
      notices.push({
        kind: 'drift',
        vm: state.vm,
        lines: [`${state.vm} drifted from its setup`, ...drift],
        logsOf: [],
        repair: true,
      });
    told.drift = driftKey;
  }

  if (outcome.kind === 'probed') notices.push(...conditionsTold(told, outcome.status, state.vm, now));

  const months = probe.delegateAgeMonths;
  if (probe.delegateImage !== undefined && months !== undefined) {
    const due = months >= LIFE_MONTHS ? LIFE_MONTHS : months >= SUPPORT_MONTHS ? SUPPORT_MONTHS : 0;
    const toldAge = told.ageImage === probe.delegateImage ? (told.age ?? 0) : 0;
    const latest = outcome.kind === 'probed' ? outcome.status.delegateAge?.latest : undefined;
    if (due > toldAge) notices.push(ageNotice(state.vm, probe.delegateImage, months, latest));
    if (due !== toldAge || told.ageImage !== probe.delegateImage)
      Object.assign(told, { age: Math.max(due, toldAge), ageImage: probe.delegateImage });
  }
  return { probe, told, baseline, notices };
}
