import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/queue/types.js';
import type { ApprovalRequest, RunResult } from '../../src/setup/ports.js';
import { STEP_IDS } from '../../src/setup/step-ids.js';
import {
  APPROVE_ACTION,
  approvalRequestMessage,
  closedApprovalBlocks,
  REJECT_ACTION,
} from '../../src/slack/blocks/approval-message.js';
import { codeBlock, keepTail } from '../../src/slack/blocks/limits.js';
import { runMessage } from '../../src/slack/blocks/run-message.js';
import { runViewFromRecord } from '../../src/slack/blocks/run-view.js';
import { setupModal } from '../../src/slack/blocks/setup-modal.js';
import { recentRunsMessage, vmStatusMessage } from '../../src/slack/blocks/status-message.js';
import { runSummaryReply, stepFailedReply } from '../../src/slack/blocks/thread-replies.js';
import { blocksProblems, viewProblems } from '../support/fake-slack-checks.js';
import { runRecord } from '../support/run-record.js';

function record(over: Partial<RunRecord> = {}): RunRecord {
  const at = Date.UTC(2025, 0, 2, 3, 4);
  return runRecord('run_abc123', {
    target: { vm: 'vm-1', project: 'my-project', zone: 'us-central1-a' },
    messageTs: '1700000000.000100',
    createdAt: at,
    updatedAt: at,
    ...over,
  });
}

const request: ApprovalRequest = {
  runId: 'run_abc123',
  vm: 'vm-1',
  hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
  delegateName: 'vm-1-delegate',
  delegateImage: 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:25.03.85504',
  accountId: 'acct_1',
  tags: 'gitspaces',
  expiresAt: Date.UTC(2025, 0, 3, 3, 4),
};

const texts = (blocks: unknown[]) => JSON.stringify(blocks);

describe('the parent message', () => {
  it('has one block per step, block_id step-<id>, with the state word and duration', () => {
    const view = runViewFromRecord(
      record({
        state: 'running:runner',
        steps: [
          { id: 'preflight', state: 'done', durationMs: 1200, summary: 'VM RUNNING at 10.0.0.2' },
          { id: 'connect', state: 'unchanged', durationMs: 300, summary: undefined },
          { id: 'runner', state: 'running', durationMs: undefined, summary: undefined },
        ],
      }),
    );
    const { blocks, text } = runMessage(view);
    expect(blocksProblems(blocks, 50)).toEqual([]);
    for (const id of STEP_IDS) expect(blocks.filter((b) => b.block_id === `step-${id}`)).toHaveLength(1);
    const step = (id: string) => JSON.stringify(blocks.find((b) => b.block_id === `step-${id}`));
    expect(step('preflight')).toContain('done · 1.2s');
    expect(step('preflight')).toContain('VM RUNNING at 10.0.0.2');
    expect(step('connect')).toContain('unchanged · 300ms');
    expect(step('runner')).toContain('running');
    expect(step('delegate')).toContain('pending');
    expect(texts(blocks)).toContain('<@U0REQ>');
    expect(texts(blocks)).toContain('`running:runner`');
    expect(text).toBe('Gitspaces setup of vm-1: running:runner');
  });

  it('stays within Slack limits with huge summaries', () => {
    const view = runViewFromRecord(
      record({
        steps: STEP_IDS.map((id) => ({
          id,
          state: 'failed' as const,
          durationMs: 5,
          summary: 'x'.repeat(10_000),
        })),
      }),
    );
    expect(blocksProblems(runMessage(view).blocks, 50)).toEqual([]);
  });

  it('says how a finished run ended', () => {
    const ended = (over: Partial<RunRecord>) => texts(runMessage(runViewFromRecord(record(over))).blocks);
    expect(ended({ state: 'succeeded', finishedAt: Date.UTC(2025, 0, 2, 3, 6) })).toContain(
      '`succeeded` in 2m00s',
    );
    expect(ended({ state: 'rejected', decision: { kind: 'rejected', by: 'U0APP', at: 1 } })).toContain(
      '`rejected` by <@U0APP>',
    );
    expect(ended({ state: 'failed:docker' })).toContain('`failed:docker`');
    expect(ended({ state: 'expired' })).toContain('`expired`');
  });
});

describe('the approval request', () => {
  const message = approvalRequestMessage({ request, requester: 'U0REQ', approvers: ['U0APP', 'S0OPS'] });

  it('mentions the approvers and shows what will be installed where', () => {
    const all = texts(message.blocks);
    expect(blocksProblems(message.blocks, 50)).toEqual([]);
    for (const part of [
      '<@U0APP>',
      '<!subteam^S0OPS>',
      'vm-1',
      request.hostKeyFingerprint,
      'vm-1-delegate',
      request.delegateImage,
      'acct_1',
      'gitspaces',
      '<!date^1735873440^',
    ]) {
      expect(all).toContain(part);
    }
  });

  it('carries approve and reject buttons whose value is the run id', () => {
    const actions = message.blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchObject({
      elements: [
        { action_id: APPROVE_ACTION, value: 'run_abc123', style: 'primary' },
        { action_id: REJECT_ACTION, value: 'run_abc123', style: 'danger' },
      ],
    });
  });

  it('replaces the buttons by who decided and when, keeping the details', () => {
    const closed = closedApprovalBlocks(message.blocks, {
      kind: 'approved',
      by: 'U0APP',
      at: Date.UTC(2025, 0, 2, 5),
    });
    expect(closed.some((b) => b.type === 'actions')).toBe(false);
    expect(texts(closed)).toContain('Approved by <@U0APP> at <!date^1735794000^');
    expect(texts(closed)).toContain(request.hostKeyFingerprint);
    // Closing twice does not stack outcome lines.
    const twice = closedApprovalBlocks(closed, { kind: 'expired' }, request.expiresAt);
    expect(texts(twice)).not.toContain('Approved by');
    expect(texts(twice)).toContain('Expired');
  });
});

describe('thread replies', () => {
  it('shows a long redacted log tail as a code block within the section limit, keeping the end', () => {
    const detail = Array.from({ length: 2000 }, (_, i) => `line ${i} \`\`\` <tag>`).join('\n');
    const reply = stepFailedReply(
      { id: 'runner-health', state: 'failed', durationMs: 120_000, summary: undefined },
      {
        code: 'HEALTH_TIMEOUT',
        message: 'The runner did not answer /healthz within 120s.',
        detail,
        retryable: false,
      },
    );
    expect(blocksProblems(reply.blocks, 50)).toEqual([]);
    const code = JSON.stringify(reply.blocks[1]);
    expect(code).toContain('line 1999');
    expect(code).not.toContain('line 0 ');
    expect(code).toContain('&lt;tag&gt;');
  });

  it('keeps a code block closed whatever the text holds', () => {
    const block = codeBlock('a```b');
    expect(block.startsWith('```')).toBe(true);
    expect(block.endsWith('```')).toBe(true);
    expect(block.slice(3, -3)).not.toContain('```');
    expect(keepTail('abc', 10)).toBe('abc');
  });

  it('summarises a run that found everything in place', () => {
    const result: RunResult = {
      runId: 'run_abc123',
      vm: 'vm-1',
      state: 'succeeded',
      step: undefined,
      steps: STEP_IDS.map((id) => ({ id, state: 'unchanged' as const, durationMs: 10, summary: `${id} ok` })),
      error: undefined,
      unchanged: true,
    };
    const reply = runSummaryReply(result);
    expect(blocksProblems(reply.blocks, 50)).toEqual([]);
    expect(texts(reply.blocks)).toContain('already in place');
    expect(texts(reply.blocks)).toContain('`delegate-health` unchanged');
  });
});

describe('/gitspaces status', () => {
  it('lists every run state as the contract spells it', () => {
    const states = [
      'queued',
      'running:docker',
      'awaiting-approval',
      'succeeded',
      'failed:preflight',
      'rejected',
      'expired',
      'cancelled',
    ] as const;
    const message = recentRunsMessage(
      states.map((state, i) =>
        record({ id: `run_${i}`, state, target: { vm: `vm-${i}`, project: undefined, zone: undefined } }),
      ),
    );
    expect(blocksProblems(message.blocks, 50)).toEqual([]);
    for (const state of states) expect(texts(message.blocks)).toContain(`\`${state}\``);
    expect(texts(message.blocks)).toContain('https://slack.com/archives/C0RUNS/p1700000000000100');
  });

  it('fits 500 runs into one message', () => {
    const many = Array.from({ length: 500 }, (_, i) => record({ id: `run_${i}` }));
    expect(blocksProblems(recentRunsMessage(many).blocks, 50)).toEqual([]);
  });

  it('shows the live checks of one VM and its last run', () => {
    const message = vmStatusMessage({
      vm: 'vm-1',
      checks: [
        { id: 'docker', title: 'Docker Engine', ok: true, detail: '27.3.1' },
        { id: 'delegate-health', title: 'Delegate health', ok: false, detail: 'not running' },
      ],
      error: undefined,
      lastRun: record({ state: 'succeeded' }),
    });
    expect(blocksProblems(message.blocks, 50)).toEqual([]);
    expect(texts(message.blocks)).toContain(':x: *Delegate health*');
    expect(texts(message.blocks)).toContain('`succeeded`');
  });
});

describe('the setup modal', () => {
  it('has the contract ids, prefilled values and the channel in private_metadata', () => {
    const view = setupModal({
      channel: 'C0RUNS',
      project: 'my-project',
      zone: undefined,
      delegateName: '{vm}-delegate',
      tags: '',
    });
    expect(viewProblems(view)).toEqual([]);
    expect(view.callback_id).toBe('gitspaces_setup');
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ channel: 'C0RUNS' });
    const inputs = view.blocks.filter((b) => b.type === 'input');
    expect(
      inputs.map((b) => [
        b.block_id,
        'element' in b && 'action_id' in b.element ? b.element.action_id : undefined,
      ]),
    ).toEqual([
      ['vm', 'vm'],
      ['project', 'project'],
      ['zone', 'zone'],
      ['delegate_name', 'delegate_name'],
      ['tags', 'tags'],
    ]);
    expect(inputs[0]).toMatchObject({ optional: false });
    expect(inputs[1]).toMatchObject({ element: { initial_value: 'my-project' } });
    expect(inputs[2]).not.toHaveProperty('element.initial_value');
    expect(inputs[3]).toMatchObject({ element: { initial_value: '{vm}-delegate' } });
  });
});
