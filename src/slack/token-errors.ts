/**
 * Slack's answers that mean the token itself is refused (no retry can help), as opposed to Slack being
 * unreachable. https://docs.slack.dev/reference/methods/auth.test,
 * https://docs.slack.dev/reference/methods/apps.connections.open
 */
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
