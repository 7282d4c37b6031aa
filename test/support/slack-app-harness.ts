/**
 * The real Slack app (Bolt's HTTP receiver on a free port) over a real Redis queue with a prefix of its own,
 * talking to the fake Web API. Requests are signed as Slack signs them; what the app answers (the ack body,
 * response_url posts, Web API calls) is what tests look at.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../src/config.js';
import { silentLog } from '../../src/log.js';
import { createApp, type SlackApp, type SlackAppDeps } from '../../src/slack/create-app.js';
import { type FakeSlack, startFakeSlack } from './fake-slack.js';
import { openQueueHarness, type QueueHarness } from './queue-harness.js';
import {
  type ButtonClick,
  type SignOptions,
  type SlackTarget,
  sendClick,
  sendCommand,
  sendEvent,
  sendViewSubmission,
  type ViewSubmission,
} from './slack-request.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-token';

export interface Answer {
  status: number;
  /** The HTTP response body: the ack's payload (JSON) or empty. */
  body: Record<string, unknown> | undefined;
  /** What the app later posted to this request's response_url. */
  responses(): Array<Record<string, unknown>>;
}

export interface SlackAppHarness {
  slack: FakeSlack;
  queue: QueueHarness;
  config: Config;
  app: SlackApp;
  target: SlackTarget;
  base: string;
  command(text: string, options?: { user?: string; channel?: string; sign?: SignOptions }): Promise<Answer>;
  click(click: Omit<ButtonClick, 'responseUrl'>, sign?: SignOptions): Promise<Answer>;
  submit(submission: ViewSubmission): Promise<Answer>;
  /** Delivers an Events API event (`{type: 'app_home_opened', …}`). */
  event(event: Record<string, unknown>): Promise<Answer>;
  /** Waits for the `n`th response_url post of an answer. */
  response(answer: Answer, n?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  usergroups?: Record<string, string[]>;
  deps?: Partial<SlackAppDeps>;
  /** Use this queue (e.g. one whose Redis is down) instead of a fresh one. */
  queue?: QueueHarness;
  /** A fresh queue on this prefix (another process of the test may use the same one). */
  prefix?: string;
  /** How long a run whose parent is not recorded waits to start; the product's 10 s for fault tests. */
  startGraceMs?: number;
}

async function answer(slack: FakeSlack, id: string, response: Response): Promise<Answer> {
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    // A fault (Redis away) may make the receiver answer with plain text.
    body = { text };
  }
  return {
    status: response.status,
    body,
    responses: () => slack.responses.filter((r) => r.id === id).map((r) => r.body),
  };
}

export async function startSlackAppHarness(options: HarnessOptions = {}): Promise<SlackAppHarness> {
  const slack = await startFakeSlack({ token: BOT_TOKEN, usergroups: options.usergroups ?? {} });
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    GCP_PROJECT: 'acme-gitspaces',
    GCP_ZONE: 'us-central1-a',
    APPROVERS: 'U0APP,S0OPS',
    ...options.env,
  };
  const queue =
    options.queue ??
    (await openQueueHarness({
      env,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(options.startGraceMs ? { startGraceMs: options.startGraceMs } : {}),
    }));
  const config = queue.config;
  const app = createApp(config, {
    runService: queue.runs,
    redis: queue.redis,
    log: silentLog,
    ...options.deps,
  });
  const { port } = await app.start();
  const base = `http://127.0.0.1:${port}`;
  const target = { url: `${base}/slack/events`, signingSecret: SIGNING_SECRET };
  const harness: SlackAppHarness = {
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
      if (options.queue === undefined) await queue.close();
      await slack.close();
    },
  };
  return harness;
}

/** The text a person sees in an ephemeral or in-channel answer. */
export function shown(body: Record<string, unknown> | undefined): string {
  return JSON.stringify(body ?? {});
}

/** Resolves with the first truthy value `check` gives; fails the test after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
