import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackAppHarness, startSlackAppHarness } from '../support/slack-app-harness.js';
import {
  blockActionPayload,
  commandBody,
  postSigned,
  type SignOptions,
  viewSubmissionPayload,
} from '../support/slack-request.js';

let h: SlackAppHarness;

beforeAll(async () => {
  h = await startSlackAppHarness();
});
afterAll(async () => h.close());

const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** One of each surface Slack posts to `/slack/events`, each of which would change something if accepted. */
const requests: Record<string, () => string> = {
  'a slash command': () =>
    commandBody({ text: 'setup vm-skew', user: 'U0REQ', responseUrl: h.slack.responseUrl('skew') }),
  'an approval click': () =>
    form(
      blockActionPayload({
        actionId: 'delegate_approve',
        value: 'r-anything',
        user: 'U0APP',
        message: { ts: '1700000000.000100', text: 'Approval needed', blocks: [] },
        responseUrl: h.slack.responseUrl('skew'),
      }),
    ),
  'a modal submission': () =>
    form(
      viewSubmissionPayload({
        user: 'U0REQ',
        view: { callback_id: 'gitspaces_setup', private_metadata: JSON.stringify({ channel: 'C0RUNS' }) },
        values: { vm: 'vm-skew', project: null, zone: null, delegate_name: null, tags: null },
      }),
    ),
};

const at = (offsetSeconds: number): SignOptions => ({
  timestamp: Math.floor(Date.now() / 1000) + offsetSeconds,
});

/** Redis under the prefix (but the Slack queue's stalled-check stamp), the job counts and the Web API calls made. */
async function state(): Promise<string> {
  const counts = await h.queue.queue.getJobCounts();
  const calls = h.slack.calls.filter((c) => c.method !== 'auth.test').length;
  const keys = (await h.queue.dump()).filter(({ key }) => !key.endsWith(':slack:stalled-check'));
  return JSON.stringify({ keys, counts, calls });
}

describe('signature timestamps', () => {
  for (const [what, body] of Object.entries(requests)) {
    it(`refuses ${what} signed more than five minutes ahead or behind with 401, and changes nothing`, async () => {
      const before = await state();
      for (const offset of [301, 600, 86_400, -301, -86_400]) {
        const answer = await postSigned(h.target, body(), at(offset));
        expect(answer.status, `signed ${offset} s from now`).toBe(401);
        expect(await answer.text()).toBe('');
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await state()).toBe(before);
    });
  }

  it('lets a request signed a little ahead or behind (clock skew inside the window) through', async () => {
    for (const offset of [-240, 240]) {
      const answer = await postSigned(
        h.target,
        commandBody({ text: 'help', user: 'U0REQ', responseUrl: h.slack.responseUrl('skew') }),
        at(offset),
      );
      expect(answer.status, `signed ${offset} s from now`).toBe(200);
    }
  });
});
