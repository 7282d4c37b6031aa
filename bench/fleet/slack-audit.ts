/**
 * What a person in Slack would find once a fleet's runs are over: for every run one parent message showing
 * `succeeded`, its approval request closed with the decision, one summary in its thread; and what the Web
 * API was asked (calls by method, 429s, refusals).
 */
import type { RunRecord } from '../../src/queue/types.js';
import type { FakeSlack } from '../../test/support/fake-slack.js';

export interface CallCounts {
  /** Every call except auth.test, answered or refused. */
  total: number;
  ok: number;
  rateLimited: number;
  /** `ok: false` answers other than rate limits, by error. */
  refused: Record<string, number>;
  byMethod: Record<string, { total: number; ok: number; rateLimited: number }>;
}

export function countCalls(slack: FakeSlack): CallCounts {
  const counts: CallCounts = { total: 0, ok: 0, rateLimited: 0, refused: {}, byMethod: {} };
  for (const call of slack.calls) {
    if (call.method === 'auth.test') continue;
    const method = counts.byMethod[call.method] ?? { total: 0, ok: 0, rateLimited: 0 };
    counts.byMethod[call.method] = method;
    counts.total += 1;
    method.total += 1;
    if (call.ok) {
      counts.ok += 1;
      method.ok += 1;
    } else if (call.status === 429) {
      counts.rateLimited += 1;
      method.rateLimited += 1;
    } else {
      const error = call.error ?? `HTTP ${call.status}`;
      counts.refused[error] = (counts.refused[error] ?? 0) + 1;
    }
  }
  return counts;
}

/** Problems a person would see, one line per run that has any (empty: every message is there and final). */
export function auditRuns(slack: FakeSlack, runs: RunRecord[]): string[] {
  const problems: string[] = [];
  for (const run of runs) {
    const found: string[] = [];
    if (run.state !== 'succeeded') found.push(`ended ${run.state}`);
    const parent = run.messageTs === undefined ? undefined : slack.message(run.channel, run.messageTs);
    const parents = slack
      .channelMessages(run.channel)
      .filter((m) => JSON.stringify(m.blocks).includes(`run \`${run.id}\``)).length;
    if (parent === undefined) found.push('no parent message');
    else if (!JSON.stringify(parent.blocks).includes('`succeeded`')) found.push('parent not final');
    if (parents > 1) found.push(`${parents} parent messages`);
    const approval = run.approvalTs === undefined ? undefined : slack.message(run.channel, run.approvalTs);
    if (approval === undefined) found.push('no approval request');
    else if (JSON.stringify(approval.blocks).includes('delegate_approve'))
      found.push('approval request still open');
    const summaries =
      parent === undefined
        ? 0
        : slack.thread(run.channel, parent.ts).filter((m) => m.text.includes('Setup finished')).length;
    if (summaries !== 1) found.push(`${summaries} summaries`);
    if (found.length > 0) problems.push(`${run.target.vm} (${run.id}): ${found.join(', ')}`);
  }
  return problems;
}
