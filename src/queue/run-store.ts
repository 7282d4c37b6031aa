/**
 * Run records in Redis: one hash per run plus its audit list, indexes of recent runs per channel and
 * overall, the last run per VM, and the reservation that keeps one active run per VM. Records outlive
 * their BullMQ job: a finished run is kept for `retentionSeconds`, and the indexes keep the newest ids.
 */
import type { Redis } from 'ioredis';
import type { StepRecord } from '../setup/ports.js';
import type { RunState } from '../setup/step-ids.js';
import { encodeAudit, encodeDecision, encodeNewRun, encodeStep, stepField, toPairs } from './run-codec.js';
import { type RunKeys, runKeys } from './run-keys.js';
import { type RunReads, runReads } from './run-reads.js';
import {
  ATTACH_MESSAGES,
  BEGIN_RUN,
  CREATE_RUN,
  DECIDE_RUN,
  FINISH_RUN,
  UPDATE_OPEN_RUN,
} from './run-scripts.js';
import type { AttachedMessages, AuditEntry, FinalDecision, FinalRunState, RunRecord } from './types.js';

export interface RunStoreOptions {
  /** How long a finished run is kept. @defaultValue 30 days */
  retentionSeconds?: number;
  /** Run ids kept in the overall index. @defaultValue 1000 */
  keepRecent?: number;
  /** Run ids kept per channel. @defaultValue 200 */
  keepPerChannel?: number;
  /** Audit entries kept per run (the newest). @defaultValue 100 */
  keepAudit?: number;
}

export type CreateOutcome = { ok: true; run: RunRecord } | { ok: false; active: RunRecord };
export type DecideCode = 'ok' | 'already-decided' | 'expired' | 'not-waiting' | 'not-found';
export type FinishCode = 'ok' | 'finished' | 'not-found' | `state:${string}`;

export interface OpenRunFields {
  state?: RunState;
  /** The state is progress news that must not hide a pending approval request (see UPDATE_OPEN_RUN). */
  softState?: boolean;
  messageTs?: string;
  approvalTs?: string;
  approvalExpiresAt?: number;
  step?: StepRecord;
}

export interface RunStore extends RunReads {
  readonly keys: RunKeys;
  /** Writes a new run and reserves its VM, unless another unfinished run holds it. */
  create(run: RunRecord): Promise<CreateOutcome>;
  /**
   * Changes an unfinished run; false when the run is finished or gone. With a step, the audit entry is
   * added only when the step's record changed.
   */
  update(runId: string, fields: OpenRunFields, audit?: AuditEntry): Promise<boolean>;
  /** Records the run's Slack messages, finished or not; false when the run has no record. */
  attach(runId: string, messages: AttachedMessages): Promise<boolean>;
  decide(runId: string, decision: FinalDecision, now: number): Promise<DecideCode>;
  /** A worker takes up the run; 'finished' when it was cancelled (or ended) meanwhile. */
  begin(runId: string, runningState: RunState, now: number): Promise<'ok' | 'finished' | 'not-found'>;
  finish(
    runId: string,
    state: FinalRunState,
    entry: { at: number; by: string; detail?: string; onlyFrom?: RunState; also?: AuditEntry },
  ): Promise<FinishCode>;
}

const DAY = 86_400;
const LOST_JOB = 'its job was lost: the workers running it stopped more often than allowed';

export function createRunStore(redis: Redis, prefix: string, options: RunStoreOptions = {}): RunStore {
  const keys = runKeys(prefix);
  const retention = options.retentionSeconds ?? 30 * DAY;
  const keepAudit = options.keepAudit ?? 100;
  const reads = runReads(redis, keys);
  const { get } = reads;
  return {
    keys,
    ...reads,

    create: (run) => createRun(redis, keys, { ...options, retention }, run, get),

    async update(runId, fields, audit) {
      const { step, state, softState, ...plain } = fields;
      const pairs = toPairs(plain);
      if (step !== undefined) pairs.push(stepField(step.id), encodeStep(step));
      const watched = step === undefined ? '' : stepField(step.id);
      const reply = await UPDATE_OPEN_RUN.run(
        redis,
        [keys.run(runId), keys.audit(runId)],
        [
          Date.now(),
          audit === undefined ? '' : encodeAudit(audit),
          keepAudit,
          watched,
          state ?? '',
          softState ? '1' : '0',
          ...pairs,
        ],
      );
      return reply === 1;
    },

    async attach(runId, messages) {
      const pairs = toPairs({ ...messages });
      if (pairs.length === 0) return true;
      return (await ATTACH_MESSAGES.run(redis, [keys.run(runId)], pairs)) === 1;
    },

    async decide(runId, decision, now) {
      const by = 'by' in decision ? decision.by : 'system';
      const expired = encodeDecision({ kind: 'expired' });
      return (await DECIDE_RUN.run(
        redis,
        [keys.run(runId), keys.audit(runId)],
        [
          now,
          encodeDecision(decision),
          encodeAudit({ at: now, by, event: decision.kind }),
          expired,
          encodeAudit({ at: now, by: 'system', event: 'expired' }),
        ],
      )) as DecideCode;
    },

    async begin(runId, runningState, now) {
      return (await BEGIN_RUN.run(redis, [keys.run(runId)], [now, runningState])) as
        | 'ok'
        | 'finished'
        | 'not-found';
    },

    async finish(runId, state, entry) {
      const record = await redis.hget(keys.run(runId), 'vm');
      if (record === null) return 'not-found';
      const audit = [
        entry.also,
        { at: entry.at, by: entry.by, event: 'finished' as const, detail: entry.detail ?? state },
      ]
        .filter((e): e is AuditEntry => e !== undefined)
        .map(encodeAudit);
      return (await FINISH_RUN.run(
        redis,
        [keys.run(runId), keys.audit(runId), keys.vmActive(record), keys.vmLast(record)],
        [entry.at, state, retention, runId, entry.onlyFrom ?? '', ...audit],
      )) as FinishCode;
    },
  };
}

/** Writes a new run and reserves its VM in one script, or names the unfinished run that holds the VM. */
async function createRun(
  redis: Redis,
  keys: RunKeys,
  options: RunStoreOptions & { retention: number },
  run: RunRecord,
  get: RunReads['get'],
): Promise<CreateOutcome> {
  const requested = encodeAudit({ at: run.createdAt, by: run.requester, event: 'requested' });
  const reply = (await CREATE_RUN.run(
    redis,
    [
      keys.vmActive(run.target.vm),
      keys.run(run.id),
      keys.audit(run.id),
      keys.allRuns,
      keys.channelRuns(run.channel),
      keys.vmLast(run.target.vm),
    ],
    [
      run.id,
      run.createdAt,
      requested,
      options.keepRecent ?? 1000,
      options.keepPerChannel ?? 200,
      keys.run(''),
      keys.job(''),
      encodeAudit({ at: run.createdAt, by: 'system', event: 'finished', detail: LOST_JOB }),
      options.retention,
      ...encodeNewRun(run),
    ],
  )) as [number, string];
  if (reply[0] === 1) return { ok: true, run: { ...run, audit: [JSON.parse(requested) as AuditEntry] } };
  const active = await get(reply[1]);
  if (active === undefined) throw new Error(`run ${reply[1]} holds VM ${run.target.vm} but has no record`);
  return { ok: false, active };
}
