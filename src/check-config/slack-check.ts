import type { Config } from '../config.js';
import { seconds } from './deadline.js';
import { type ConfigCheckRow, failRow, okRow, skipRow } from './rows.js';

const CHECK = 'Slack auth.test';

/** Errors that mean the token itself is wrong. https://docs.slack.dev/reference/methods/auth.test */
const TOKEN_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

interface AuthTestReply {
  ok?: boolean;
  error?: string;
  user?: string;
  team?: string;
  team_id?: string;
}

function unreachable(apiUrl: string, reason: string): ConfigCheckRow {
  return failRow(
    CHECK,
    `Slack's Web API at ${apiUrl} cannot be reached (${reason}).`,
    'Check network access to slack.com (proxies, firewall), or SLACK_API_URL when it is set.',
  );
}

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${seconds(timeoutMs)}`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function judge(reply: AuthTestReply): ConfigCheckRow {
  if (reply.ok === true) {
    return okRow(
      CHECK,
      `the bot token works: bot user ${reply.user ?? '?'} in workspace ${reply.team ?? '?'} (${reply.team_id ?? '?'})`,
    );
  }
  const error = reply.error ?? 'unknown_error';
  if (TOKEN_ERRORS.has(error)) {
    return failRow(
      CHECK,
      `Slack refused SLACK_BOT_TOKEN (${error}).`,
      "Copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into SLACK_BOT_TOKEN; reinstall the app if it was revoked.",
    );
  }
  return failRow(
    CHECK,
    `Slack answered ${error}.`,
    'See https://docs.slack.dev/reference/methods/auth.test for what it means.',
  );
}

/**
 * Calls `auth.test` with SLACK_BOT_TOKEN at SLACK_API_URL, within `timeoutMs`. The token travels only in the
 * Authorization header and is never shown.
 */
export async function checkSlack(config: Pick<Config, 'slack'>, timeoutMs: number): Promise<ConfigCheckRow> {
  const token = config.slack.botToken;
  if (token === undefined) return skipRow(CHECK, 'not tried: SLACK_BOT_TOKEN is not set');
  const url = new URL('auth.test', config.slack.apiUrl).toString();
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    return unreachable(config.slack.apiUrl, networkReason(error, timeoutMs));
  }
  if (response.status === 429) {
    const after = response.headers.get('retry-after');
    return failRow(
      CHECK,
      `Slack is rate limiting this token (HTTP 429${after ? `, retry after ${after} s` : ''}).`,
      'Run check-config again in a minute.',
    );
  }
  let reply: AuthTestReply;
  try {
    reply = JSON.parse(body) as AuthTestReply;
  } catch {
    return unreachable(config.slack.apiUrl, `HTTP ${response.status}, not a Web API answer`);
  }
  if (!response.ok && reply.ok !== true && !TOKEN_ERRORS.has(reply.error ?? '')) {
    return unreachable(config.slack.apiUrl, `HTTP ${response.status}${reply.error ? ` ${reply.error}` : ''}`);
  }
  return judge(reply);
}
