import { type Config, loadConfig, type Need } from '../config.js';
import { isGitspacesError } from '../errors.js';
import { withDotEnv } from '../load-env.js';
import { type ConfigCheckRow, failRow, okRow } from './rows.js';

/** `check-config` checks what `serve` needs: everything. */
const NEEDS: Need[] = ['slack', 'approvers', 'secrets', 'harness'];

/** A problem about one variable can only be cleared by also dropping the one it depends on. */
const DEPENDS_ON: Record<string, string[]> = { SSH_KNOWN_HOSTS: ['SSH_HOST_KEY_POLICY'] };

export interface SettingsCheck {
  /** The configuration to check the rest with: the valid one, or the best one without the bad values. */
  config: Config;
  rows: ConfigCheckRow[];
}

/** The problems listed in a CONFIG_INVALID message, one per `  - ` line. */
function problemsOf(error: unknown): string[] | undefined {
  if (!isGitspacesError(error) || error.code !== 'CONFIG_INVALID') return undefined;
  return error.message
    .split('\n')
    .filter((line) => line.startsWith('  - '))
    .map((line) => line.slice(4));
}

function variableOf(problem: string): string | undefined {
  return /^([A-Z][A-Z0-9_]*)\b/.exec(problem)?.[1];
}

function problemRow(problem: string): ConfigCheckRow {
  const name = variableOf(problem);
  if (name === undefined) return failRow('settings', problem, 'Fix it in the environment or in .env.');
  const fix = / is missing\b/.test(problem)
    ? `Set ${name} in the environment or in .env (see .env.example).`
    : `Correct ${name} in the environment or in .env (see .env.example).`;
  return failRow(name, problem, fix);
}

/**
 * The configuration without the variables that made it invalid, so Redis, Slack and Google can still be
 * checked with what is right: a bad PORT must not hide an unreachable Redis.
 */
function bestEffortConfig(merged: NodeJS.ProcessEnv): Config {
  const env = { ...merged };
  for (;;) {
    try {
      return { ...loadConfig(env, { dotEnv: false }), env: merged };
    } catch (error) {
      const problems = problemsOf(error);
      if (problems === undefined) throw error;
      const names = problems.map(variableOf).filter((n): n is string => n !== undefined);
      const drop = names.flatMap((n) => [n, ...(DEPENDS_ON[n] ?? [])]).filter((n) => env[n] !== undefined);
      // Every problem names a variable set in `env`, so each round removes at least one; the defaults remain.
      if (drop.length === 0) return { ...loadConfig({}, { dotEnv: false }), env: merged };
      for (const name of drop) delete env[name];
    }
  }
}

function summary(config: Config): string {
  const slack =
    config.slack.appToken !== undefined ? 'Slack over Socket Mode' : `Slack over HTTP on port ${config.port}`;
  const approvers = `${config.approvers.length} approver${config.approvers.length === 1 ? '' : 's'}`;
  const keys =
    config.ssh.hostKeyPolicy === 'known-hosts'
      ? `host keys from ${config.ssh.knownHosts}`
      : config.ssh.hostKeyPolicy === 'tofu'
        ? 'host keys trusted on first use'
        : 'host keys from guest attributes';
  const to = config.ssh.iap
    ? 'VMs through IAP'
    : config.ssh.proxyCommand === undefined
      ? `the ${config.ssh.address} address`
      : 'VMs through SSH_PROXY_COMMAND';
  return `every setting is valid: ${slack}, ${approvers}, ${keys}, SSH as ${config.ssh.user} to ${to}`;
}

/** Every setting of the contract: one failing row per missing or invalid variable, or one row saying all is well. */
export function checkSettings(env: NodeJS.ProcessEnv, dotEnv: string | false = '.env'): SettingsCheck {
  const merged = dotEnv === false ? env : withDotEnv(env, dotEnv);
  try {
    const config = loadConfig(merged, { needs: NEEDS, dotEnv: false });
    return { config, rows: [okRow('settings', summary(config))] };
  } catch (error) {
    const problems = problemsOf(error);
    if (problems === undefined) throw error;
    return { config: bestEffortConfig(merged), rows: problems.map(problemRow) };
  }
}
