/**
 * Whether Slack accepts the bot token (`auth.test`), for /readyz and the start-up log. A success is trusted
 * for a while (a probe every few seconds must not turn into a call each); a failure is retried on a later
 * probe, the pause doubling while it keeps failing. A token Slack refused and a Slack that cannot be reached
 * are told apart: only the first is the token's fault. https://docs.slack.dev/reference/methods/auth.test
 */

import type { Log } from '../../log.js';
import { backoff } from '../../retry.js';
import { TOKEN_ERRORS } from '../token-errors.js';
import { type SlackCalls, SlackRefusedError, SlackUnavailableError } from '../web-api.js';
import { missingScopes, REINSTALL_FIX } from './bot-scopes.js';

export interface SlackIdentity {
  /** `ok` plus a short reason for /readyz. */
  check(): Promise<{ ok: boolean; detail: string }>;
}

export interface SlackIdentityOptions {
  calls: SlackCalls;
  log: Log;
  /** Named in the message when Slack cannot be reached. @defaultValue https://slack.com/api/ */
  apiUrl?: string;
  /** @defaultValue 5 min */
  trustMs?: number;
  /** First pause after a failure; it doubles up to `maxRetryMs`. @defaultValue 5 s */
  retryMs?: number;
  /** @defaultValue 5 min */
  maxRetryMs?: number;
}

const DEADLINE_MS = 3000;

/** What the log and /readyz say about a failed auth.test. */
function failureMessage(error: unknown, apiUrl: string): string {
  if (error instanceof SlackRefusedError) {
    return TOKEN_ERRORS.has(error.slackError)
      ? `Slack refused SLACK_BOT_TOKEN (${error.slackError}): copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page`
      : `Slack answered auth.test with ${error.slackError}`;
  }
  const reason =
    error instanceof SlackUnavailableError
      ? `no answer within ${DEADLINE_MS / 1000} s`
      : error instanceof Error
        ? error.message
        : String(error);
  return `Slack's Web API at ${apiUrl} cannot be reached (${reason}): check network access to slack.com (proxy, firewall, DNS) or SLACK_API_URL; the bot token was not checked`;
}

export function createSlackIdentity(options: SlackIdentityOptions): SlackIdentity {
  const trust = options.trustMs ?? 300_000;
  const firstRetry = options.retryMs ?? 5000;
  const maxRetry = options.maxRetryMs ?? 300_000;
  const apiUrl = options.apiUrl ?? 'https://slack.com/api/';
  let failures = 0; // in a row: the wait before asking again grows with them
  const retry = () => backoff(failures, firstRetry, maxRetry);
  let last: { ok: boolean; detail: string; at: number } | undefined;
  let pending: Promise<{ ok: boolean; detail: string }> | undefined;

  async function verify(): Promise<{ ok: boolean; detail: string }> {
    try {
      const result = await options.calls.call('auth.test', {}, { deadlineMs: DEADLINE_MS });
      const granted = (result.response_metadata as { scopes?: string[] } | undefined)?.scopes;
      const missing = missingScopes(granted);
      const lacks = missing.length === 0 ? '' : `; lacks ${missing.join(', ')}`;
      const detail = `ok (${String(result.user_id ?? 'bot')} in ${String(result.team ?? 'workspace')}${lacks})`;
      if (last?.ok !== true)
        options.log.info({ user: result.user_id, team: result.team_id }, 'Slack accepted the bot token');
      // Said once, not at every probe: the bot runs, and what needs the missing scope fails when used.
      if (missing.length > 0 && last?.detail !== detail)
        options.log.warn({ missing }, `The bot token lacks ${missing.join(', ')}. ${REINSTALL_FIX}`);
      last = { ok: true, detail, at: Date.now() };
      failures = 0;
    } catch (error) {
      const detail = failureMessage(error, apiUrl);
      failures++;
      if (last?.ok !== false || last.detail !== detail) {
        options.log.error({ retryInMs: retry() }, `Slack auth.test failed: ${detail}`);
      }
      last = { ok: false, detail, at: Date.now() };
    }
    return last;
  }

  return {
    async check() {
      if (last !== undefined && Date.now() - last.at < (last.ok ? trust : retry())) return last;
      pending ??= verify().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
