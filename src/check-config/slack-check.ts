import type { Config } from '../config.js';
import { seconds } from '../duration.js';
import { egressProxy } from '../egress-proxy.js';
import { missingScopes, REINSTALL_FIX } from '../slack/health/bot-scopes.js';
import { APP_TOKEN_ERRORS, networkReason, TOKEN_ERRORS } from '../slack/token-errors.js';
import { type ConfigCheckRow, failRow, okRow, skipRow } from './rows.js';

const CHECK = 'Slack auth.test';
const APP_CHECK = 'SLACK_APP_TOKEN (Socket Mode)';

const APP_TOKEN_FIX =
  "On the app's Basic Information page, under App-Level Tokens, create a token (xapp-…) with the connections:write scope and put it in SLACK_APP_TOKEN; or leave SLACK_APP_TOKEN empty for HTTP mode.";

interface AuthTestReply {
  ok?: boolean;
  error?: string;
  user?: string;
  team?: string;
  team_id?: string;
}

function unreachable(apiUrl: string, reason: string, check = CHECK): ConfigCheckRow {
  return failRow(
    check,
    `Slack's Web API at ${apiUrl} cannot be reached (${reason}).`,
    'Check network access to slack.com (proxies, firewall), or SLACK_API_URL when it is set.',
  );
}

function judge(reply: AuthTestReply, scopes: string | null): ConfigCheckRow {
  if (reply.ok === true) {
    const works = `the bot token works: bot user ${reply.user ?? '?'} in workspace ${reply.team ?? '?'} (${reply.team_id ?? '?'})`;
    const missing = missingScopes(scopes?.split(','));
    if (missing.length === 0) return okRow(CHECK, works);
    return failRow(CHECK, `${works}, but it lacks ${missing.join(', ')}.`, REINSTALL_FIX);
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

/** Calls a Web API method with `token`: Slack's reply, or the failing row when no Web API answer came. */
async function callSlack(
  config: Pick<Config, 'slack' | 'env'>,
  method: string,
  token: string,
  timeoutMs: number,
  check: string,
): Promise<{ reply: AuthTestReply; scopes: string | null } | { row: ConfigCheckRow }> {
  const apiUrl = config.slack.apiUrl;
  let response: Response;
  let body: string;
  try {
    response = await (egressProxy(config.env)?.fetch ?? fetch)(new URL(method, apiUrl).toString(), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    return {
      row: unreachable(apiUrl, networkReason(error, `no answer within ${seconds(timeoutMs)}`), check),
    };
  }
  if (response.status === 429) {
    const after = response.headers.get('retry-after');
    return {
      row: failRow(
        check,
        `Slack is rate limiting this token (HTTP 429${after ? `, retry after ${after} s` : ''}).`,
        'Run check-config again in a minute.',
      ),
    };
  }
  let reply: AuthTestReply;
  try {
    reply = JSON.parse(body) as AuthTestReply;
  } catch {
    return { row: unreachable(apiUrl, `HTTP ${response.status}, not a Web API answer`, check) };
  }
  if (!response.ok && reply.ok !== true && !APP_TOKEN_ERRORS.has(reply.error ?? '')) {
    return {
      row: unreachable(apiUrl, `HTTP ${response.status}${reply.error ? ` ${reply.error}` : ''}`, check),
    };
  }
  return { reply, scopes: response.headers.get('x-oauth-scopes') };
}

/**
 * Calls `auth.test` with SLACK_BOT_TOKEN at SLACK_API_URL, within `timeoutMs`. The token travels only in the
 * Authorization header and is never shown.
 */
export async function checkSlack(
  config: Pick<Config, 'slack' | 'env'>,
  timeoutMs: number,
): Promise<ConfigCheckRow> {
  const token = config.slack.botToken;
  if (token === undefined) return skipRow(CHECK, 'not tried: SLACK_BOT_TOKEN is not set');
  const answer = await callSlack(config, 'auth.test', token, timeoutMs, CHECK);
  return 'row' in answer ? answer.row : judge(answer.reply, answer.scopes);
}

/**
 * With SLACK_APP_TOKEN set (Socket Mode): whether Slack hands that token a Socket Mode URL
 * (`apps.connections.open`). No socket is opened, so a running bot's connections are left alone.
 * Undefined in HTTP mode.
 */
export async function checkSlackAppToken(
  config: Pick<Config, 'slack' | 'env'>,
  timeoutMs: number,
): Promise<ConfigCheckRow | undefined> {
  const token = config.slack.appToken;
  if (token === undefined) return undefined;
  if (/^xox[bp]-/.test(token)) {
    const kind = token.startsWith('xoxb-') ? 'a bot token (xoxb-…)' : 'a user token (xoxp-…)';
    return failRow(
      APP_CHECK,
      `SLACK_APP_TOKEN holds ${kind}, not an app-level token (xapp-…).`,
      APP_TOKEN_FIX,
    );
  }
  const answer = await callSlack(config, 'apps.connections.open', token, timeoutMs, APP_CHECK);
  if ('row' in answer) return answer.row;
  const { reply } = answer;
  if (reply.ok === true)
    return okRow(APP_CHECK, 'Slack accepts the app token: Socket Mode can connect (no socket was opened)');
  const error = reply.error ?? 'unknown_error';
  if (APP_TOKEN_ERRORS.has(error))
    return failRow(APP_CHECK, `Slack refused SLACK_APP_TOKEN (${error}).`, APP_TOKEN_FIX);
  return failRow(
    APP_CHECK,
    `Slack answered ${error}.`,
    'See https://docs.slack.dev/reference/methods/apps.connections.open for what it means.',
  );
}
