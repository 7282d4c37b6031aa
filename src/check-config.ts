/**
 * `gitspaces-bot check-config [<vm>]`: every setting, Redis, Slack `auth.test`, the secret references and
 * (given a VM) the Compute API, as one table with a fix for each failure. Exit 0 when all pass, 1 when
 * anything fails, 2 for bad usage. Each network check is bounded, so the command answers within a few
 * seconds even when everything is down.
 */

import { checkDelegateImage } from './check-config/delegate-check.js';
import { prepareGoogleSide } from './check-config/google-check.js';
import { checkProxyCommand } from './check-config/proxy-check.js';
import { checkRedis } from './check-config/redis-check.js';
import type { ConfigCheckRow } from './check-config/rows.js';
import { checkSettings } from './check-config/settings.js';
import { checkSlack, checkSlackAppToken } from './check-config/slack-check.js';
import { formatTable } from './check-config/table.js';
import type { Config } from './config.js';
import { GitspacesError } from './errors.js';
import type { Io } from './io.js';
import { Redactor } from './setup/redactor.js';

export type { ConfigCheckRow } from './check-config/rows.js';

export const CHECK_CONFIG_USAGE = `Usage: gitspaces-bot check-config [<vm>]

Checks every setting, that Redis answers, that Slack accepts SLACK_BOT_TOKEN (and SLACK_APP_TOKEN when set,
without opening a socket), that each secret reference
resolves (values are never shown) and, given a VM (vm, zone/vm or project/zone/vm), that the Compute API
finds it with its address and host keys, that its sshd answers the way setup reaches it (TCP,
SSH_PROXY_COMMAND or IAP), and whether the bot's key is let in there and as whom (nothing is changed, no
login made). Exit code 0 when everything passes, 1 otherwise.`;

export interface CheckConfigOptions {
  /** Path of the `.env` file read under the environment; `false` to read none. @defaultValue '.env' */
  dotEnv?: string | false;
  /** Bound of each network check. @defaultValue 3000 */
  timeoutMs?: number;
  /** The time the delegate image's age is told from. @defaultValue Date.now */
  now?: () => number;
}

function parseArgs(argv: readonly string[]): { vm: string | undefined; help: boolean } {
  if (argv.some((a) => a === '--help' || a === '-h')) return { vm: undefined, help: true };
  const flag = argv.find((a) => a.startsWith('-'));
  if (flag !== undefined)
    throw new GitspacesError('USAGE', `check-config has no option ${flag}.\n\n${CHECK_CONFIG_USAGE}`);
  if (argv.length > 1)
    throw new GitspacesError('USAGE', `check-config takes at most one VM.\n\n${CHECK_CONFIG_USAGE}`);
  return { vm: argv[0], help: false };
}

/** The table must not show a credential even when one was pasted into the wrong variable. */
function redactorFor(config: Config): Redactor {
  // From the environment, not the checked configuration: a value that made the configuration invalid is
  // missing from the latter.
  const redactor = new Redactor()
    .add(config.env.SLACK_BOT_TOKEN)
    .add(config.env.SLACK_SIGNING_SECRET)
    .add(config.env.SLACK_APP_TOKEN);
  try {
    const url = new URL(config.redisUrl);
    if (url.password !== '') redactor.add(decodeURIComponent(url.password)).add(url.password);
  } catch {
    // An invalid REDIS_URL already has its own row.
  }
  return redactor;
}

/** One line under the table, counting the rows it shows. */
export function verdict(rows: readonly ConfigCheckRow[]): string {
  const failed = rows.filter((r) => r.status === 'FAIL').length;
  const skipped = rows.filter((r) => r.status === 'skip').length;
  const passed = rows.length - failed - skipped;
  const counts = skipped === 0 ? '' : ` (${passed} passed, ${skipped} skipped)`;
  if (failed === 0) return skipped === 0 ? `All ${passed} checks passed.` : `No check failed${counts}.`;
  return `${failed} of ${rows.length} checks failed: fix the FAIL rows and run \`gitspaces-bot check-config\` again${counts}.`;
}

export async function checkConfig(
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
  io: Pick<Io, 'stdout' | 'stderr'>,
  options: CheckConfigOptions = {},
): Promise<number> {
  let vm: string | undefined;
  try {
    const args = parseArgs(argv);
    if (args.help) {
      io.stdout.write(`${CHECK_CONFIG_USAGE}\n`);
      return 0;
    }
    vm = args.vm;
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const timeoutMs = options.timeoutMs ?? 3000;
  const settings = checkSettings(env, options.dotEnv ?? '.env');
  const { config } = settings;
  // Before any check's clock starts: building Google's clients blocks the process for seconds.
  const googleSide = await prepareGoogleSide(config, vm, timeoutMs);
  const [redis, slack, appToken, google, delegate] = await Promise.all([
    checkRedis(config, timeoutMs),
    checkSlack(config, timeoutMs),
    checkSlackAppToken(config, timeoutMs),
    googleSide.check(),
    checkDelegateImage(config, (options.now ?? Date.now)(), timeoutMs),
  ]);
  const appTokenRows = appToken === undefined ? [] : [appToken];
  const ssh = checkProxyCommand(config);
  const rows = [...settings.rows, ...delegate, redis, slack, ...appTokenRows, ...ssh, ...google];
  const redactor = redactorFor(config);
  io.stdout.write(`${redactor.redact(formatTable(rows))}\n\n${verdict(rows)}\n`);
  return rows.some((r) => r.status === 'FAIL') ? 1 : 0;
}
