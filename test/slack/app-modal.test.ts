import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackAppHarness, startSlackAppHarness, until } from '../support/slack-app-harness.js';

let h: SlackAppHarness;

beforeEach(async () => {
  h = await startSlackAppHarness({ env: { DELEGATE_TAGS: 'gitspaces' } });
});
afterEach(async () => h.close());

const view = (channel = 'C0RUNS') => ({
  callback_id: 'gitspaces_setup',
  private_metadata: JSON.stringify({ channel }),
});
const values = (over: Record<string, string | null> = {}) => ({
  vm: 'vm-7',
  project: null,
  zone: null,
  delegate_name: '{vm}-delegate',
  tags: 'gitspaces',
  ...over,
});

function errorsOf(answer: { body: Record<string, unknown> | undefined }): Record<string, string> {
  return answer.body?.errors as Record<string, string>;
}

describe('the setup modal', () => {
  it('opens from /gitspaces setup with the contract ids, prefilled from the configuration', async () => {
    const answer = await h.command('setup');
    expect(answer.status).toBe(200);
    expect(answer.body).toBeUndefined();
    const [opened] = await h.slack.waitFor('views.open', () => {
      const calls = h.slack.callsTo('views.open');
      return calls.length > 0 ? calls : undefined;
    });
    expect(opened?.ok).toBe(true);
    const modal = opened?.args.view as {
      callback_id: string;
      private_metadata: string;
      blocks: Array<Record<string, unknown>>;
    };
    expect(modal.callback_id).toBe('gitspaces_setup');
    expect(JSON.parse(modal.private_metadata)).toEqual({ channel: 'C0RUNS' });
    const input = (id: string) =>
      modal.blocks.find((b) => b.block_id === id) as { element: Record<string, unknown> };
    expect(input('vm').element.action_id).toBe('vm');
    expect(input('project').element.initial_value).toBe('acme-gitspaces');
    expect(input('zone').element.initial_value).toBe('us-central1-a');
    expect(input('delegate_name').element.initial_value).toBe('{vm}-delegate');
    expect(input('tags').element.initial_value).toBe('gitspaces');
  });

  it('answers bad values with errors keyed by their fields and starts nothing', async () => {
    const answer = await h.submit({
      user: 'U0REQ',
      view: view(),
      values: values({ vm: 'Bad_VM', zone: 'nowhere', delegate_name: 'NOT VALID!', tags: 'a;b' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ response_action: 'errors' });
    const errors = errorsOf(answer);
    expect(Object.keys(errors).sort()).toEqual(['delegate_name', 'tags', 'vm', 'zone']);
    expect(errors.vm).toContain('Bad_VM');
    expect(errors.zone).toContain('nowhere');
    expect(await h.queue.runs.recent({ limit: 10 })).toEqual([]);
  });

  it('starts the run on a valid submission and posts its parent message in the channel it was opened from', async () => {
    const answer = await h.submit({
      user: 'U0REQ',
      view: view('C0OTHER'),
      values: values({ delegate_name: 'gs-{vm}', tags: 'gpu, large', zone: 'europe-west1-b' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toBeUndefined();
    const parent = await h.slack.waitFor('the parent message', () => h.slack.channelMessages('C0OTHER')[0]);
    expect(parent.text).toBe('Gitspaces setup of vm-7: queued');
    const run = await until('the run with its message', async () => {
      const r = await h.queue.runs.activeForVm('vm-7');
      return r?.messageTs === undefined ? undefined : r;
    });
    expect(run).toMatchObject({
      target: { vm: 'vm-7', project: 'acme-gitspaces', zone: 'europe-west1-b' },
      delegateName: 'gs-{vm}',
      tags: 'gpu, large',
      requester: 'U0REQ',
      channel: 'C0OTHER',
      messageTs: parent.ts,
    });
  });

  it('keeps the configured delegate name and tags when they were left as prefilled', async () => {
    await h.submit({ user: 'U0REQ', view: view(), values: values() });
    const run = await until('the run', () => h.queue.runs.activeForVm('vm-7'));
    expect(run.delegateName).toBeUndefined();
    expect(run.tags).toBeUndefined();
  });

  it('refuses a VM with an active run in the form itself', async () => {
    await h.submit({ user: 'U0REQ', view: view(), values: values() });
    const again = await h.submit({ user: 'U0OTHER', view: view(), values: values() });
    expect(again.body).toMatchObject({ response_action: 'errors' });
    expect(errorsOf(again).vm).toContain('already has a run in progress');
    expect(await h.queue.runs.recent({ limit: 10 })).toHaveLength(1);
  });

  it('refuses a form whose channel is missing or not allowed', async () => {
    const lost = await h.submit({
      user: 'U0REQ',
      view: { callback_id: 'gitspaces_setup' },
      values: values(),
    });
    expect(errorsOf(lost).vm).toContain('run /gitspaces setup again');
    await h.close();
    h = await startSlackAppHarness({ env: { ALLOWED_CHANNELS: 'C0RUNS' } });
    const elsewhere = await h.submit({ user: 'U0REQ', view: view('C0ELSEWHERE'), values: values() });
    expect(errorsOf(elsewhere).vm).toContain('not allowed in this channel');
    expect(await h.queue.runs.recent({ limit: 10 })).toEqual([]);
  });
});
