/**
 * One run as the audit shows it: who (requester, decider), what (kind, VM, images), when (each step's start,
 * end and result). Keys are always present (null when unknown) and in a fixed order, so that `jsonl` output
 * can be compared and loaded line by line.
 */
import type { AuditEntry, RunRecord } from '../queue/types.js';
import type { StepRecord } from '../setup/ports.js';

export interface AuditStep {
  id: string;
  result: string;
  start: string | null;
  end: string | null;
  durationMs: number | null;
  summary: string | null;
}

export interface AuditRow {
  run: string;
  vm: string;
  project: string | null;
  zone: string | null;
  channel: string;
  kind: string;
  images: { delegate: string | null; runner: string | null };
  requester: string;
  decision: string | null;
  decider: string | null;
  decidedAt: string | null;
  state: string;
  createdAt: string;
  finishedAt: string | null;
  steps: AuditStep[];
}

function iso(ms: number | undefined): string | null {
  return ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}

/**
 * Steps record how long they took, and the audit when each ended (the worker writes both when a step
 * finishes), so the start is the end less the duration. A step still running has neither yet.
 */
function auditStep(step: StepRecord, audit: readonly AuditEntry[]): AuditStep {
  const ended = audit.filter((e) => e.event === 'step' && e.step === step.id).at(-1)?.at;
  const start = ended === undefined || step.durationMs === undefined ? undefined : ended - step.durationMs;
  return {
    id: step.id,
    result: step.state,
    start: iso(start),
    end: iso(ended),
    durationMs: step.durationMs ?? null,
    summary: step.summary ?? null,
  };
}

export function auditRow(run: RunRecord): AuditRow {
  const decision = run.decision;
  const by = decision !== undefined && 'by' in decision ? decision : undefined;
  return {
    run: run.id,
    vm: run.target.vm,
    project: run.target.project ?? null,
    zone: run.target.zone ?? null,
    channel: run.channel,
    kind: run.kind ?? 'setup',
    images: { delegate: run.images?.delegate ?? null, runner: run.images?.runner ?? null },
    requester: run.requester,
    decision: decision?.kind ?? null,
    decider: by?.by ?? null,
    decidedAt: iso(by?.at),
    state: run.state,
    createdAt: iso(run.createdAt) ?? '',
    finishedAt: iso(run.finishedAt),
    steps: run.steps.map((step) => auditStep(step, run.audit)),
  };
}
