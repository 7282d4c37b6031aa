/**
 * The bot scopes the bot calls on, as manifest.yml asks for them (a test keeps the two equal), with what each
 * is for. Slack names a token's scopes in the `x-oauth-scopes` header of every Web API answer; an app
 * installed from an older manifest lacks what was added since, until it is reinstalled.
 * https://docs.slack.dev/reference/scopes
 */
export const BOT_SCOPES: Readonly<Record<string, string>> = {
  commands: '/gitspaces',
  'chat:write': 'run messages and approval requests',
  'chat:write.public': 'posting in a public channel without an invitation',
  'files:write': '/gitspaces logs sharing a long log as a file',
  'usergroups:read': 'user groups (S…) in APPROVERS and SETUP_ALLOWED',
};

export const REINSTALL_FIX =
  "Update the app's manifest from manifest.yml (api.slack.com/apps → your app → App Manifest), reinstall the app to the workspace (OAuth & Permissions → Reinstall), and put the Bot User OAuth Token it shows in SLACK_BOT_TOKEN.";

/** The bot scopes missing from `granted`, each with its use; empty when Slack named none (nothing to judge). */
export function missingScopes(granted: readonly string[] | undefined): string[] {
  if (granted === undefined) return [];
  const has = new Set(granted.map((scope) => scope.trim()));
  return Object.entries(BOT_SCOPES)
    .filter(([scope]) => !has.has(scope))
    .map(([scope, use]) => `${scope} (${use})`);
}
