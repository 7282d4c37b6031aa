/**
 * What a probe found, as the watch compares it: healthy or not (with what failed, worded for people and
 * keyed without times so that the same failure is recognised at the next probe), and each container's
 * fingerprint, whose changes since the VM was last set up are drift. Pure.
 */
import { describeExits } from '../setup/container-exits.js';
import type { ContainerState } from '../setup/container-state.js';
import type { ContainerStatus, VmStatus } from '../setup/probe.js';
import { describeRefusal } from '../setup/token-refusal.js';

export interface Problem {
  /** The same at every probe while the failure lasts ("delegate vm-1-delegate exited (1)"). */
  key: string;
  /** With when, for the notice ("… 3 min ago"). */
  text: string;
  /** The container whose log tail explains it, when there is one. */
  container?: string;
}

export interface Assessment {
  healthy: boolean;
  problems: Problem[];
}

/** What drift is measured on: what a setup decides about a container, not what it does while running. */
export interface Fingerprint {
  image: string;
  imageId: string;
  settings: string;
  restartPolicy: string;
  ports: string;
  mounts: string;
}

const ZERO_TIME = /^0001-01-01/;

function ago(iso: string | undefined, now: number): string {
  const at = iso && !ZERO_TIME.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(at)) return '';
  const minutes = Math.max(0, Math.round((now - at) / 60_000));
  if (minutes < 1) return ' just now';
  if (minutes < 120) return ` ${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? ` ${hours} h ago` : ` ${Math.round(hours / 24)} days ago`;
}

function containerProblem(role: string, c: ContainerStatus, now: number): Problem | undefined {
  const name = `${role} ${c.name}`;
  const state = c.state;
  if (state === undefined) return { key: `${name} is missing`, text: `${name} is missing` };
  if (state.status !== 'running') {
    const code = state.exitCode === undefined ? '' : ` (${state.exitCode})`;
    const key = `${name} ${state.status}${code}`;
    const why = c.exits ? `; ${describeExits(c.exits)}` : '';
    return { key, text: `${key}${ago(state.finishedAt, now)}${why}`, container: c.name };
  }
  if (c.tokenRefused) {
    const key = `${name} is running but ${describeRefusal(c.tokenRefused)}`;
    return { key, text: key, container: c.name };
  }
  if (!c.healthy) {
    const key = `${name} is running but does not answer its health check`;
    return {
      key,
      text: `${key} (up since${ago(state.startedAt, now) || ' an unknown time'})`,
      container: c.name,
    };
  }
  return undefined;
}

export function assess(status: VmStatus, network: string, now: number): Assessment {
  if (!status.docker) {
    const key = 'Docker is not answering';
    return { healthy: false, problems: [{ key, text: key }] };
  }
  const problems: Problem[] = [];
  if (!status.network)
    problems.push({ key: `network ${network} is missing`, text: `network ${network} is missing` });
  for (const [role, c] of [
    ['runner', status.runner],
    ['delegate', status.delegate],
  ] as const) {
    const problem = containerProblem(role, c, now);
    if (problem) problems.push(problem);
  }
  return { healthy: problems.length === 0, problems };
}

export function fingerprint(state: ContainerState): Fingerprint {
  return {
    image: state.image,
    imageId: state.imageId,
    settings: `${state.specHash}/${state.poolHash}`,
    restartPolicy: state.restartPolicy,
    ports: state.ports.join(' '),
    mounts: state.mounts.join(' '),
  };
}

const WORDS: Record<keyof Fingerprint, string> = {
  image: 'image',
  imageId: 'image id',
  settings: 'settings',
  restartPolicy: 'restart policy',
  ports: 'published ports',
  mounts: 'mounts',
};

const shown = (key: keyof Fingerprint, value: string) =>
  key === 'imageId' ? value.replace(/^sha256:/, '').slice(0, 12) : value || 'none';

/**
 * How each container differs from its fingerprint when the VM was last set up ("delegate vm-1-delegate:
 * image a → b"). A container that is missing or stopped is a health problem, not drift.
 */
export function driftOf(status: VmStatus, baseline: Record<string, Fingerprint>): string[] {
  const found: string[] = [];
  for (const [role, c] of [
    ['runner', status.runner],
    ['delegate', status.delegate],
  ] as const) {
    const before = baseline[c.name];
    if (before === undefined || c.state === undefined) continue;
    const now = fingerprint(c.state);
    for (const key of Object.keys(WORDS) as Array<keyof Fingerprint>) {
      // A new image under the same name is drift only when the image name did not change with it.
      if (key === 'imageId' && now.image !== before.image) continue;
      if (now[key] !== before[key])
        found.push(`${role} ${c.name}: ${WORDS[key]} ${shown(key, before[key])} → ${shown(key, now[key])}`);
    }
  }
  return found;
}

/** The fingerprints of the containers present, to compare later probes with. */
export function baselineOf(status: VmStatus): Record<string, Fingerprint> {
  const out: Record<string, Fingerprint> = {};
  for (const c of [status.runner, status.delegate]) if (c.state) out[c.name] = fingerprint(c.state);
  return out;
}
