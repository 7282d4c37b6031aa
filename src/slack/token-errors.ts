/**
 * Slack's answers that mean the token itself is refused (no retry can help), told apart from Slack being
 * out of reach (retry with backoff), for the bot token's check, Socket Mode's app token and check-config.
 * https://docs.slack.dev/reference/methods/auth.test, https://docs.slack.dev/reference/methods/apps.connections.open
 */
import { GitspacesError } from '../errors.js';

export const TOKEN_ERRORS: ReadonlySet<string> = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

/** apps.connections.open refuses an app token for these too. */
export const APP_TOKEN_ERRORS: ReadonlySet<string> = new Set([
  ...TOKEN_ERRORS,
  'not_allowed_token_type',
  'missing_scope',
  'team_disabled',
  'user_removed_from_team',
]);

/** The fields of @slack/web-api's errors read here (compared by their `code` strings). */
interface WebApiErrorShape {
  code?: string;
  data?: { error?: string };
  original?: unknown;
  statusCode?: number;
}

/** The GitspacesError to end the process with when `error` is Slack refusing SLACK_APP_TOKEN. */
export function refusedAppToken(error: unknown): GitspacesError | undefined {
  const e = error as WebApiErrorShape | undefined;
  const slackError = e?.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
  if (slackError === undefined || !APP_TOKEN_ERRORS.has(slackError)) return undefined;
  return new GitspacesError(
    'CONFIG_INVALID',
    `Slack refused SLACK_APP_TOKEN (${slackError}) when opening the Socket Mode connection: create an app-level token (xapp-…) with the connections:write scope on the app's Basic Information page (App-Level Tokens) and put it in SLACK_APP_TOKEN, or leave SLACK_APP_TOKEN empty to use HTTP mode.`,
  );
}

/**
 * A short reason for a failed call that is not a refusal (`ECONNREFUSED`, `HTTP 503`…), from the Web API
 * client's errors or fetch's own; `noAnswer` when the call was cut short by its deadline.
 */
export function networkReason(error: unknown, noAnswer = 'no answer in time'): string {
  const e = error as WebApiErrorShape | undefined;
  if (e?.code === 'slack_webapi_http_error' && e.statusCode !== undefined) return `HTTP ${e.statusCode}`;
  if (e?.code === 'slack_webapi_platform_error') return e.data?.error ?? 'unknown_error';
  const original = e?.code === 'slack_webapi_request_error' ? e.original : error;
  if (original instanceof Error) {
    if (original.name === 'TimeoutError' || original.name === 'AbortError') return noAnswer;
    const cause = original.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? original.message;
  }
  return String(original);
}
