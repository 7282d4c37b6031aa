/**
 * An approver who clicks Approve the moment a request shows up in Slack: watches the fake Slack for approval
 * requests and sends the signed `delegate_approve` click to the app, as Slack would.
 */
import type { FakeSlack } from '../../test/support/fake-slack.js';
import { type SlackTarget, sendClick } from '../../test/support/slack-request.js';
import { now } from '../lib/clock.js';
import { isApprovalRequest, runIdOf, type SlackWatch } from '../lib/slack-watch.js';

export interface Click {
  runId: string;
  /** The request arrived at Slack. */
  postedAt: number;
  /** The click was sent (right away). */
  sentAt: number;
  ackMs: number;
  status: number;
}

export function startClicker(
  slack: FakeSlack,
  watch: SlackWatch,
  target: SlackTarget,
  approver: string,
): Click[] {
  const clicks: Click[] = [];
  let n = 0;
  watch.onMessage((message, postedAt) => {
    if (!isApprovalRequest(message)) return;
    const runId = runIdOf(message);
    const seen = structuredClone({ ts: message.ts, text: message.text, blocks: message.blocks });
    const sentAt = now();
    void sendClick(target, {
      actionId: 'delegate_approve',
      value: runId,
      user: approver,
      channel: message.channel,
      message: seen,
      responseUrl: slack.responseUrl(`click-${n++}`),
    }).then(
      async (response) => {
        await response.text();
        clicks.push({ runId, postedAt, sentAt, ackMs: now() - sentAt, status: response.status });
      },
      () => clicks.push({ runId, postedAt, sentAt, ackMs: Number.NaN, status: 0 }),
    );
  });
  return clicks;
}
