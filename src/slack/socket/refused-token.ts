/**
 * Telling "Slack refused the app token" (no retry can help: the process must say so and end) from "Slack
 * could not be reached" (retry with backoff). Codes from apps.connections.open and the Web API's auth errors:
 * https://docs.slack.dev/reference/methods/apps.connections.open
 */
import { GitspacesError } from '../../errors.js';
import { APP_TOKEN_ERRORS } from '../token-errors.js';

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

/** A short reason for a failed call that is not a refusal: `ECONNREFUSED`, `HTTP 503`, `no answer within 10 s`… */
export function networkReason(error: unknown): string {
  const e = error as WebApiErrorShape | undefined;
  if (e?.code === 'slack_webapi_http_error' && e.statusCode !== undefined) return `HTTP ${e.statusCode}`;
  if (e?.code === 'slack_webapi_platform_error') return e.data?.error ?? 'unknown_error';
  const original = e?.code === 'slack_webapi_request_error' ? e.original : error;
  if (original instanceof Error) {
    if (original.name === 'TimeoutError' || original.name === 'AbortError') return 'no answer in time';
    const cause = original.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? original.message;
  }
  return String(original);
}
