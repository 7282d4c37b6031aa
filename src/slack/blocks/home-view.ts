/**
 * The App Home tab: the watched VMs as their last probe left them and, for approvers, the runs waiting for
 * them. Published whole on every `app_home_opened`, so it stays inside a Home view's 100 blocks however many
 * VMs there are. https://docs.slack.dev/surfaces/app-home
 */

import type { types } from '@slack/bolt';
import type { RunRecord } from '../../queue/types.js';
import { imageTag } from '../../setup/delegate-age.js';
import { DISK_FULL_PERCENT } from '../../setup/docker-disk.js';
import { errorCount } from '../../setup/runner-errors.js';
import type { Health } from '../../watch/verdict.js';
import type { WatchEntry } from '../../watch/watch-store.js';
import { archiveLink, mention, slackDate, threadReplyLink } from './format.js';
import { escapeMrkdwn, LIMITS, truncate } from './limits.js';

export type HomeVm = Pick<WatchEntry, 'vm' | 'probe' | 'mutedUntil'>;

export interface HomeViewInput {
  now: number;
  vms: readonly HomeVm[];
  /** The runs the user may decide on; undefined when the user is not an approver (no section at all). */
  awaiting: readonly RunRecord[] | undefined;
}

export interface HomeView {
  type: 'home';
  blocks: types.KnownBlock[];
}

/** Past these, the rest is counted rather than shown: the tab stays short enough to read. */
export const MAX_HOME_VMS = 50;
export const MAX_HOME_AWAITING = 15;

const HEALTH: Record<Health | 'none', { emoji: string; word: string; order: number }> = {
  unhealthy: { emoji: ':red_circle:', word: 'unhealthy', order: 0 },
  unreachable: { emoji: ':warning:', word: 'unreachable', order: 1 },
  none: { emoji: ':white_circle:', word: 'not probed yet', order: 2 },
  healthy: { emoji: ':large_green_circle:', word: 'healthy', order: 3 },
};

function healthOf(entry: HomeVm) {
  return HEALTH[entry.probe?.health ?? 'none'];
}

function section(text: string): types.KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
}

function header(text: string): types.KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.headerText) } };
}

function context(text: string): types.KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

function months(n: number): string {
  return n === 1 ? '1 month old' : `${n} months old`;
}

/** Two lines: health and the last probe, then the delegate, the last run and the mute (also `/gitspaces watch`). */
export function vmLines({ vm, probe, mutedUntil }: HomeVm, now: number): string {
  const health = HEALTH[probe?.health ?? 'none'];
  const first = [`*${escapeMrkdwn(vm.vm)}*`, `${health.emoji} ${health.word}`];
  if (probe !== undefined) first.push(`probed ${slackDate(probe.at)}`);
  const problem = probe?.problems[0];
  if (probe?.health !== 'healthy' && problem !== undefined)
    first.push(`_${escapeMrkdwn(truncate(problem, 200))}_`);
  const second: string[] = [];
  if (probe?.delegateImage !== undefined) {
    const tag = imageTag(probe.delegateImage) || probe.delegateImage;
    const age = probe.delegateAgeMonths === undefined ? '' : ` · ${months(probe.delegateAgeMonths)}`;
    second.push(`delegate \`${escapeMrkdwn(truncate(tag, 100))}\`${age}`);
  }
  if (probe?.diskPercent !== undefined)
    second.push(
      `${probe.diskPercent >= DISK_FULL_PERCENT ? ':warning: ' : ''}disk ${probe.diskPercent}% used`,
    );
  if (probe?.runnerErrors !== undefined)
    second.push(`:warning: runner logged ${errorCount(probe.runnerErrors)} in the hour before`);
  const run = vm.messageTs === undefined ? vm.kind : `<${archiveLink(vm.channel, vm.messageTs)}|${vm.kind}>`;
  second.push(`last ${run} ${slackDate(vm.since)} in <#${vm.channel}>`);
  if (mutedUntil !== undefined && mutedUntil > now)
    second.push(`:mute: muted until ${slackDate(mutedUntil)}`);
  return `${first.join(' · ')}\n${second.join(' · ')}`;
}

/** One line for a run waiting for a decision, linked to its approval request in the run's thread. */
export function awaitingLine(run: RunRecord): string {
  const where =
    run.approvalTs !== undefined && run.messageTs !== undefined
      ? threadReplyLink(run.channel, run.approvalTs, run.messageTs)
      : run.messageTs === undefined
        ? undefined
        : archiveLink(run.channel, run.messageTs);
  const parts = [
    `*${escapeMrkdwn(run.target.vm)}*`,
    `${run.kind ?? 'setup'} requested by ${mention(run.requester)} ${slackDate(run.createdAt)}`,
  ];
  if (where !== undefined) parts.push(`<${where}|approval request>`);
  if (run.approvalExpiresAt !== undefined) parts.push(`expires ${slackDate(run.approvalExpiresAt)}`);
  return parts.join(' · ');
}

function awaitingBlocks(awaiting: readonly RunRecord[]): types.KnownBlock[] {
  const blocks = [header('Waiting for your approval')];
  if (awaiting.length === 0) return [...blocks, section('Nothing is waiting for your approval.')];
  blocks.push(...awaiting.slice(0, MAX_HOME_AWAITING).map((run) => section(awaitingLine(run))));
  const left = awaiting.length - MAX_HOME_AWAITING;
  if (left > 0)
    blocks.push(context(`…and ${left} more waiting: see the approval requests in their channels`));
  return blocks;
}

/** VMs needing attention first, so that a cap never hides a broken VM behind healthy ones. */
function byAttention(a: HomeVm, b: HomeVm): number {
  return healthOf(a).order - healthOf(b).order || a.vm.vm.localeCompare(b.vm.vm);
}

/** `room` blocks at most, one of them kept for the count of VMs left out. */
function vmBlocks(vms: readonly HomeVm[], now: number, room: number): types.KnownBlock[] {
  const blocks = [header(`Watched VMs (${vms.length})`)];
  if (vms.length === 0)
    return [...blocks, section('No VM is watched yet: a VM is watched once a setup of it succeeds.')];
  const shown = Math.max(0, Math.min(MAX_HOME_VMS, vms.length, room - blocks.length - 1));
  const sorted = [...vms].sort(byAttention);
  blocks.push(...sorted.slice(0, shown).map((entry) => section(vmLines(entry, now))));
  const left = vms.length - shown;
  if (left > 0) blocks.push(context(`…and ${left} more: \`/gitspaces watch\` in their channel`));
  return blocks;
}

export function homeView(input: HomeViewInput): HomeView {
  const blocks: types.KnownBlock[] = [
    header('Gitspaces'),
    context(`As of ${slackDate(input.now)} · open this tab again to refresh`),
  ];
  if (input.awaiting !== undefined) blocks.push(...awaitingBlocks(input.awaiting), { type: 'divider' });
  blocks.push(...vmBlocks(input.vms, input.now, LIMITS.blocksPerHome - blocks.length));
  return { type: 'home', blocks };
}
