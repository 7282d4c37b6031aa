/**
 * A run record as Redis hash fields and back. Plain strings stay plain (the Lua scripts compare them);
 * structured values are JSON; each step is its own field so that writers never overwrite each other.
 */
import type { StepRecord } from '../setup/ports.js';
import { type RunState, STEP_IDS, type StepId } from '../setup/step-ids.js';
import type { AuditEntry, FinalDecision, RunRecord } from './types.js';

/** Summaries and audit details are one-liners; longer text belongs in the Slack thread, not the record. */
const MAX_TEXT = 300;

export function clip(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

export type Fields = Record<string, string>;

/** Field/value pairs for HSET, skipping undefined values. */
export function toPairs(fields: Record<string, string | number | undefined>): string[] {
  return Object.entries(fields).flatMap(([key, value]) => (value === undefined ? [] : [key, String(value)]));
}

export function stepField(id: StepId): string {
  return `step:${id}`;
}

export function encodeStep(step: StepRecord): string {
  return JSON.stringify({ ...step, summary: clip(step.summary) });
}

export function encodeDecision(decision: FinalDecision): string {
  return JSON.stringify(decision);
}

export function encodeAudit(entry: AuditEntry): string {
  return JSON.stringify({ ...entry, detail: clip(entry.detail) });
}

/** The hash fields of a new run. */
export function encodeNewRun(run: RunRecord): string[] {
  return toPairs({
    id: run.id,
    vm: run.target.vm,
    project: run.target.project,
    zone: run.target.zone,
    requester: run.requester,
    channel: run.channel,
    messageTs: run.messageTs,
    approvalTs: run.approvalTs,
    delegateName: run.delegateName,
    tags: run.tags,
    kind: run.kind,
    upgradeDelegate: run.images?.delegate,
    upgradeRunner: run.images?.runner,
    state: run.state,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  });
}

function num(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

export function decodeRun(fields: Fields, auditRows: string[]): RunRecord | undefined {
  if (fields.id === undefined || fields.vm === undefined) return undefined;
  const steps = STEP_IDS.flatMap((id) => {
    const text = fields[stepField(id)];
    return text === undefined ? [] : [JSON.parse(text) as StepRecord];
  });
  return {
    id: fields.id,
    target: { vm: fields.vm, project: fields.project, zone: fields.zone },
    requester: fields.requester ?? 'unknown',
    channel: fields.channel ?? '',
    messageTs: fields.messageTs,
    approvalTs: fields.approvalTs,
    delegateName: fields.delegateName,
    tags: fields.tags,
    kind: fields.kind === 'upgrade' ? 'upgrade' : 'setup',
    ...(fields.upgradeDelegate !== undefined || fields.upgradeRunner !== undefined
      ? { images: { delegate: fields.upgradeDelegate, runner: fields.upgradeRunner } }
      : {}),
    state: (fields.state ?? 'queued') as RunState,
    steps,
    decision: fields.decision === undefined ? undefined : (JSON.parse(fields.decision) as FinalDecision),
    approvalExpiresAt: num(fields.approvalExpiresAt),
    createdAt: num(fields.createdAt) ?? 0,
    updatedAt: num(fields.updatedAt) ?? 0,
    finishedAt: num(fields.finishedAt),
    audit: auditRows.map((row) => JSON.parse(row) as AuditEntry),
  };
}
