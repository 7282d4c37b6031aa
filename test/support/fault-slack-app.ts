/**
 * The real Slack app (Bolt's HTTP receiver) for fault tests, like test/support/slack-app-harness.ts but on
 * a queue prefix of the test's choosing (another process may use the same one), with the bot's logger.
 */
import { randomUUID } from 'node:crypto';
import { createApp } from '../../src/slack/create-app.js';
import type { Log } from '../../src/slack/log.js';
import { type FakeSlack, startFakeSlack } from './fake-slack.js';
import { openQueueHarness } from './queue-harness.js';
import { type Answer, BOT_TOKEN, SIGNING_SECRET, type SlackAppHarness } from './slack-app-harness.js';
import { sendClick, sendCommand, sendEvent, sendViewSubmission } from './slack-request.js';

async function answer(slack: FakeSlack, id: string, response: Response): Promise<Answer> {
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return {
    status: response.status,
    body,
    responses: () => slack.responses.filter((r) => r.id === id).map((r) => r.body),
  };
}

export async function startBotApp(options: {
  env: Record<string, string>;
  usergroups: Record<string, string[]>;
  log: Log;
  prefix?: string;
}): Promise<SlackAppHarness> {
  const slack = await startFakeSlack({ token: BOT_TOKEN, usergroups: options.usergroups });
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GCP_PROJECT: 'acme-gitspaces',
    GCP_ZONE: 'us-central1-a',
    ...options.env,
  };
  // The product's start grace (10 s), not the harness's minute: a run whose parent message was not
  // recorded starts as it would in production.
  const queue = await openQueueHarness({
    env,
    startGraceMs: 10_000,
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  const config = queue.config;
  const app = createApp(config, { runService: queue.runs, redis: queue.redis, log: options.log });
  const { port } = await app.start();
  const base = `http://127.0.0.1:${port}`;
  const target = { url: `${base}/slack/events`, signingSecret: SIGNING_SECRET };
  return {
    slack,
    queue,
    config,
    app,
    target,
    base,
    async command(text, o = {}) {
      const id = randomUUID();
      const input = {
        text,
        user: o.user ?? 'U0REQ',
        channel: o.channel ?? 'C0RUNS',
        responseUrl: slack.responseUrl(id),
      };
      return answer(slack, id, await sendCommand(target, input, o.sign));
    },
    async click(click, sign) {
      const id = randomUUID();
      return answer(
        slack,
        id,
        await sendClick(target, { ...click, responseUrl: slack.responseUrl(id) }, sign),
      );
    },
    async submit(submission) {
      return answer(slack, randomUUID(), await sendViewSubmission(target, submission));
    },
    async event(event) {
      return answer(slack, randomUUID(), await sendEvent(target, event));
    },
    async response(a, n = 1) {
      return slack.waitFor(`response ${n} to a request`, () => a.responses()[n - 1]);
    },
    async close() {
      await app.close();
      await queue.close();
      await slack.close();
    },
  };
}
