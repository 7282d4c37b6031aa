import { posix } from 'node:path';
import {
  type ContainerSpec,
  delegateSpec,
  publicEnv,
  RUNNER_NAME,
  runnerSpec,
  SETTINGS_LABEL,
  TOKEN_LABEL,
  tokenMark,
} from '../container-specs.js';
import type { ContainerState, Observed } from '../container-state.js';
import { ageNote } from '../delegate-age.js';
import { driftOf, observeAll } from '../steps/container.js';
import type { StepContext } from '../steps/step.js';
import { poolDiff } from './pool-diff.js';

/** What a run would do to one container, old → new, worked out before any step changes anything. */
export interface ContainerChange {
  name: string;
  action: 'create' | 'replace' | 'start' | 'none';
  /** A running container would be stopped or replaced: it needs an approval before the first change. */
  disruptive: boolean;
  /** Old → new, one thing per line ("image a → b", "DELEGATE_TOKEN: rotated"); names only for secrets. */
  lines: string[];
}

type PlanContext = Pick<StepContext, 'vm' | 'settings' | 'material' | 'clock'>;

function delegateImageLine(found: ContainerState, spec: ContainerSpec, now: number): string {
  return `image ${found.image} (${ageNote(found.image, now)}) → ${spec.image} (${ageNote(spec.image, now)})`;
}

/** The delegate's settings that differ, from the labels it was created with (older containers have none). */
function delegateSettingLines(ctx: PlanContext, found: ContainerState): string[] | undefined {
  const labelled = found.labels?.[SETTINGS_LABEL];
  if (labelled === undefined) return undefined;
  let old: Record<string, string>;
  try {
    old = JSON.parse(labelled) as Record<string, string>;
  } catch {
    return undefined;
  }
  const lines = publicEnv(ctx.settings)
    .filter(([key, value]) => old[key] !== value)
    .map(([key, value]) => `${key}: ${old[key] || '(empty)'} → ${value || '(empty)'}`);
  if (found.labels?.[TOKEN_LABEL] !== tokenMark(ctx.settings, ctx.material.token))
    lines.push('DELEGATE_TOKEN: rotated');
  return lines;
}

async function poolLine(ctx: PlanContext): Promise<string> {
  const path = posix.join(ctx.settings.runnerDir, 'pool.yml');
  const current = await ctx.vm.run(['cat', path], { root: true, allowFail: true });
  return current.code === 0 ? poolDiff(current.stdout, ctx.material.pool.content) : 'pool file: new';
}

async function linesFor(
  ctx: PlanContext,
  which: 'runner' | 'delegate',
  reasons: string[],
  found: ContainerState,
  spec: ContainerSpec,
): Promise<string[]> {
  const lines: string[] = [];
  for (const reason of reasons) {
    if (reason.startsWith('image ') && which === 'delegate')
      lines.push(delegateImageLine(found, spec, ctx.clock.now()));
    else if (reason === 'the pool file changed') lines.push(await poolLine(ctx));
    else if (reason === 'its settings differ' && which === 'delegate')
      lines.push(...(delegateSettingLines(ctx, found) ?? [reason]));
    else lines.push(reason);
  }
  return lines;
}

async function changeOf(
  ctx: PlanContext,
  which: 'runner' | 'delegate',
  spec: ContainerSpec,
  seen: Observed,
): Promise<ContainerChange> {
  const drift = driftOf(seen, spec);
  const found = seen.container;
  const at = { name: spec.name, disruptive: false };
  if (drift.kind === 'missing') return { ...at, action: 'create', lines: [`none → ${spec.image}`] };
  if (drift.kind === 'none' || !found) return { ...at, action: 'none', lines: [] };
  if (drift.kind === 'stopped') return { ...at, action: 'start', lines: [`${drift.status} → running`] };
  return {
    name: spec.name,
    action: 'replace',
    disruptive: found.status === 'running' || found.status === 'restarting',
    lines: await linesFor(ctx, which, drift.reasons, found, spec),
  };
}

/** The runner and the delegate, old → new, as the steps would find them now. Reads only. */
export async function changePlan(ctx: PlanContext): Promise<ContainerChange[]> {
  const runner = runnerSpec(ctx.settings, ctx.material.poolHash);
  const delegate = delegateSpec(ctx.settings, ctx.material.token, '');
  // Both looked at in one command: each command is a round trip and a `sudo`.
  const [runnerSeen, delegateSeen] = (await observeAll(ctx, [runner, delegate])) as [Observed, Observed];
  return [
    await changeOf(ctx, 'runner', runner, runnerSeen),
    await changeOf(ctx, 'delegate', delegate, delegateSeen),
  ];
}

/** `vm-runner: image a → b` lines for messages: each change of each container. */
export function describeChanges(changes: ContainerChange[]): string[] {
  return changes.flatMap((c) => c.lines.map((line) => `${c.name}: ${line}`));
}

export const isRunner = (change: ContainerChange) => change.name === RUNNER_NAME;
