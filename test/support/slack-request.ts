/**
 * Requests to the bot's `/slack/events` endpoint, signed exactly as Slack signs them: `v0=` + hex
 * HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`).
 * https://docs.slack.dev/authentication/verifying-requests-from-slack
 * Payload shapes follow Slack's examples for slash commands, block_actions and view_submission.
 */
import { createHmac } from 'node:crypto';

export interface SignOptions {
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  /** Sign with this secret instead (a forged request). */
  secret?: string;
}

export interface SlackTarget {
  /** e.g. `http://127.0.0.1:1234/slack/events` */
  url: string;
  signingSecret: string;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export async function postSigned(
  target: SlackTarget,
  body: string,
  options: SignOptions = {},
  contentType = 'application/x-www-form-urlencoded',
): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(target.url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(options.secret ?? target.signingSecret, timestamp, body),
    },
    body,
  });
}

export interface CommandInput {
  text: string;
  user?: string;
  channel?: string;
  /** Where `respond()` posts; the fake Slack's responseUrl(). */
  responseUrl: string;
  triggerId?: string;
}

export function commandBody(input: CommandInput): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0FAKE',
    team_domain: 'fake',
    channel_id: input.channel ?? 'C0RUNS',
    channel_name: 'gitspaces',
    user_id: input.user ?? 'U0REQ',
    user_name: 'requester',
    command: '/gitspaces',
    text: input.text,
    api_app_id: 'A0GITSPACES',
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? `trigger-${Math.random().toString(36).slice(2)}`,
  }).toString();
}

export async function sendCommand(
  target: SlackTarget,
  input: CommandInput,
  options: SignOptions = {},
): Promise<Response> {
  return postSigned(target, commandBody(input), options);
}

function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface ButtonClick {
  actionId: string;
  value: string;
  user: string;
  channel?: string;
  /** The message that carries the button, as Slack sends it back. */
  message: { ts: string; text: string; blocks: unknown[] };
  responseUrl: string;
}

export function blockActionPayload(click: ButtonClick): unknown {
  const channel = click.channel ?? 'C0RUNS';
  return {
    type: 'block_actions',
    user: {
      id: click.user,
      username: click.user.toLowerCase(),
      name: click.user.toLowerCase(),
      team_id: 'T0FAKE',
    },
    api_app_id: 'A0GITSPACES',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: click.message.ts, channel_id: channel, is_ephemeral: false },
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    team: { id: 'T0FAKE', domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'gitspaces' },
    message: {
      type: 'message',
      user: 'UBOT',
      ts: click.message.ts,
      bot_id: 'BBOT',
      text: click.message.text,
      blocks: click.message.blocks,
    },
    state: { values: {} },
    response_url: click.responseUrl,
    actions: [
      {
        action_id: click.actionId,
        block_id: 'approval-actions',
        text: { type: 'plain_text', text: 'Approve', emoji: true },
        value: click.value,
        style: 'primary',
        type: 'button',
        action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
      },
    ],
  };
}

export async function sendClick(
  target: SlackTarget,
  click: ButtonClick,
  options: SignOptions = {},
): Promise<Response> {
  return postSigned(target, interactionBody(blockActionPayload(click)), options);
}

export interface ViewSubmission {
  user: string;
  /** The view as opened (callback_id, private_metadata). */
  view: { callback_id: string; private_metadata?: string };
  /** block_id → value typed into the plain_text_input whose action_id equals the block_id. */
  values: Record<string, string | null>;
}

export function viewSubmissionPayload(submission: ViewSubmission): unknown {
  const values: Record<string, Record<string, { type: string; value: string | null }>> = {};
  for (const [block, value] of Object.entries(submission.values))
    values[block] = { [block]: { type: 'plain_text_input', value } };
  return {
    type: 'view_submission',
    team: { id: 'T0FAKE', domain: 'fake' },
    user: {
      id: submission.user,
      username: submission.user.toLowerCase(),
      name: submission.user.toLowerCase(),
      team_id: 'T0FAKE',
    },
    api_app_id: 'A0GITSPACES',
    token: 'deprecated-verification-token',
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    view: {
      id: 'V0MODAL',
      team_id: 'T0FAKE',
      type: 'modal',
      blocks: [],
      private_metadata: submission.view.private_metadata ?? '',
      callback_id: submission.view.callback_id,
      state: { values },
      hash: '1700000000.abcdef',
      title: { type: 'plain_text', text: 'Gitspaces setup' },
      app_id: 'A0GITSPACES',
      bot_id: 'BBOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export async function sendViewSubmission(
  target: SlackTarget,
  submission: ViewSubmission,
  options: SignOptions = {},
): Promise<Response> {
  return postSigned(target, interactionBody(viewSubmissionPayload(submission)), options);
}

/** An Events API callback as Slack posts it (JSON, not form-encoded). https://docs.slack.dev/apis/events-api */
export function eventBody(event: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: 'T0FAKE',
    api_app_id: 'A0GITSPACES',
    event: { event_ts: `${now}.000100`, ...event },
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: now,
    authorizations: [
      { enterprise_id: null, team_id: 'T0FAKE', user_id: 'UBOT', is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  });
}

export async function sendEvent(
  target: SlackTarget,
  event: Record<string, unknown>,
  options: SignOptions = {},
): Promise<Response> {
  return postSigned(target, eventBody(event), options, 'application/json');
}
