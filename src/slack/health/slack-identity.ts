/**
 * Whether Slack accepts the bot token (`auth.test`), for /readyz and the start-up log. A success is trusted
 * for a while (a probe every few seconds must not turn into a call each); a failure is retried on the next
 * probe after a short pause. https://docs.slack.dev/reference/methods/auth.test
 */
import type { SlackSender } from '../delivery/slack-sender.js';
import type { Log } from '../log.js';

export interface SlackIdentity {
  /** `ok` plus a short reason for /readyz. */
  check(): Promise<{ ok: boolean; detail: string }>;
}

export interface SlackIdentityOptions {
  sender: SlackSender;
  log: Log;
  /** @defaultValue 5 min */
  trustMs?: number;
  /** @defaultValue 5 s */
  retryMs?: number;
}

export function createSlackIdentity(options: SlackIdentityOptions): SlackIdentity {
  const trust = options.trustMs ?? 300_000;
  const retry = options.retryMs ?? 5000;
  let last: { ok: boolean; detail: string; at: number } | undefined;
  let pending: Promise<{ ok: boolean; detail: string }> | undefined;

  async function verify(): Promise<{ ok: boolean; detail: string }> {
    try {
      const result = await options.sender.call('auth.test', {}, { deadlineMs: 3000 });
      const detail = `ok (${String(result.user_id ?? 'bot')} in ${String(result.team ?? 'workspace')})`;
      if (last?.ok !== true)
        options.log.info({ user: result.user_id, team: result.team_id }, 'Slack accepted the bot token');
      last = { ok: true, detail, at: Date.now() };
    } catch (error) {
      const detail = String(error instanceof Error ? error.message : error);
      if (last?.ok !== false) {
        options.log.error(
          { err: detail },
          'Slack auth.test failed: check SLACK_BOT_TOKEN (xoxb-…) and SLACK_API_URL',
        );
      }
      last = { ok: false, detail, at: Date.now() };
    }
    return last;
  }

  return {
    async check() {
      if (last !== undefined && Date.now() - last.at < (last.ok ? trust : retry)) return last;
      pending ??= verify().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
