/**
 * What the Slack surfaces and the worker share about a run. Records live in Redis under QUEUE_PREFIX and
 * outlive their BullMQ job; they hold references and results, never a secret value.
 */
import type { ApprovalDecision, JournalState, StepRecord } from '../setup/ports.js';
import type { RunState, StepId } from '../setup/step-ids.js';

export interface RunTarget {
  /** The VM name (GCE rule); also `{vm}` in DELEGATE_NAME. */
  vm: string;
  project: string | undefined;
  zone: string | undefined;
}

export interface AuditEntry {
  at: number;
  /** Slack user id, or `system`. */
  by: string;
  event: 'requested' | 'approved' | 'rejected' | 'expired' | 'cancelled' | 'step' | 'retry' | 'finished';
  step?: StepId;
  detail?: string;
}

export type FinalDecision = Exclude<ApprovalDecision, { kind: 'pending' }>;

/** The states a run ends in; the VM is free again once its run is in one of them. */
export type FinalRunState =
  | Extract<RunState, 'succeeded' | 'rejected' | 'expired' | 'cancelled'>
  | `failed:${StepId}`;

export interface RunRecord {
  /** Opaque, `[A-Za-z0-9_-]{1,64}`; also the BullMQ job id. */
  id: string;
  target: RunTarget;
  requester: string;
  channel: string;
  /** The parent message of the run in `channel` (its thread holds the details). */
  messageTs: string | undefined;
  /** The approval request message in the thread, once posted. */
  approvalTs: string | undefined;
  delegateName: string | undefined;
  tags: string | undefined;
  /** `setup` (absent in records older than upgrades) or `upgrade`, as `/gitspaces status` shows it. */
  kind?: RunKind;
  /** What an upgrade asked for, as typed (`delegate=<image-or-tag>`); resolved against the config by the worker. */
  images?: RunImages;
  state: RunState;
  steps: StepRecord[];
  decision: FinalDecision | undefined;
  /** When the approval request runs out (set when the request is posted). */
  approvalExpiresAt: number | undefined;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | undefined;
  audit: AuditEntry[];
}

export type RunKind = 'setup' | 'upgrade';

export interface RunImages {
  delegate?: string | undefined;
  runner?: string | undefined;
}

/** Messages of a run to record: its parent or its approval request. */
export interface AttachedMessages {
  messageTs?: string;
  approvalTs?: string;
}

/** The data of a setup job: references only. */
export interface SetupJobData {
  runId: string;
  target: RunTarget;
  requester: string;
  channel: string;
  messageTs: string | undefined;
  delegateName: string | undefined;
  tags: string | undefined;
  kind?: RunKind;
  images?: RunImages;
  /**
   * Secret references (names, never values) as the enqueuing process knew them, for the audit. The worker
   * reads secrets through its own configuration.
   */
  secretRefs: {
    pool: string | undefined;
    delegateToken: string | undefined;
    sshKey: string | undefined;
    runnerSaKey: string | undefined;
  };
  /** Where the engine is in the run; written after every step so that another worker can resume it. */
  journal?: JournalState;
}
