import { EnvReader } from './env-reader.js';
import { GitspacesError } from './errors.js';
import { withDotEnv } from './load-env.js';

export type HostKeyPolicy = 'guest-attributes' | 'known-hosts' | 'tofu';
export type SshAddress = 'internal' | 'external';

/** Everything the bot is configured with. Names follow the environment variables of the design contract. */
export interface Config {
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string;
  };
  port: number;
  redisUrl: string;
  queuePrefix: string;
  workerConcurrency: number;
  gcp: {
    project: string | undefined;
    zone: string | undefined;
    computeApiUrl: string | undefined;
    secretManagerApiUrl: string | undefined;
    /** OS Login's REST base URL, as the two above (tests, emulators). */
    osLoginApiUrl: string | undefined;
    /** IAP's tunnel relay (`ws://…` for tests): when set, no credentials are sent. */
    iapTunnelUrl: string | undefined;
    /** GOOGLE_APPLICATION_CREDENTIALS: whose OS Login profile the bot's key goes into (its `client_email`). */
    credentialsFile: string | undefined;
  };
  secrets: {
    pool: string | undefined;
    delegateToken: string | undefined;
    sshKey: string | undefined;
    runnerSaKey: string | undefined;
  };
  ssh: {
    user: string;
    port: number;
    hostKeyPolicy: HostKeyPolicy;
    knownHosts: string | undefined;
    address: SshAddress;
    /** SSH over this command's stdin and stdout (IAP, a bastion); `{vm}`, `{host}`… are replaced. */
    proxyCommand: string | undefined;
    /** `auto`: a setup run adds the key to the `ssh-keys` metadata of a VM that refuses it; `off`: never. */
    authorizeKey: 'auto' | 'off';
    /** SSH through Google's Identity-Aware Proxy, spoken by the bot itself (no Google Cloud CLI needed). */
    iap: boolean;
  };
  harness: {
    accountId: string | undefined;
    managerUrl: string;
    /** Optional: an API key (delegate view) that lets the bot ask Harness for the latest supported delegate. */
    apiKeySecret: string | undefined;
  };
  runnerImage: string;
  delegateImage: string;
  /** `{vm}` is replaced by the VM name. */
  delegateName: string;
  delegateTags: string;
  runnerDir: string;
  dockerNetwork: string;
  runnerHealthTimeoutMs: number;
  delegateHealthTimeoutMs: number;
  /** `docker stop -t` before a container is replaced: the delegate finishes its tasks, the runner its calls. */
  delegateStopTimeoutMs: number;
  runnerStopTimeoutMs: number;
  approvers: string[];
  /** `'*'` lets anyone start a run. */
  setupAllowed: '*' | string[];
  /** Undefined: any channel. */
  allowedChannels: string[] | undefined;
  allowSelfApproval: boolean;
  approvalTtlMs: number;
  /** How often every watched VM is probed; 0 when the watch is off. */
  watchIntervalMs: number;
  /** The environment the config was read from (with `.env` underneath): `env:VAR` secret references resolve here. */
  env: Readonly<Record<string, string | undefined>>;
}

/** What a command needs beyond the always-validated formats. */
export type Need = 'slack' | 'approvers' | 'secrets' | 'harness';

export interface LoadConfigOptions {
  needs?: Need[];
  /** Path of the `.env` file; `false` to read none. */
  dotEnv?: string | false;
}

export const DEFAULT_DELEGATE_IMAGE = 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:25.03.85504';
const ID_LIST = /^[UWS][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
/** A `{name}` in SSH_PROXY_COMMAND: the first group holds a name it may use, the second any other. */
export const PROXY_PLACEHOLDER = /\{(?:(vm|zone|project|host|port|user)|([a-z]+))\}/g;

/** SSH_*: who the bot logs in as, how it pins host keys, and how it reaches VMs. */
function sshSettings(r: EnvReader): Config['ssh'] {
  return {
    user: r.def('SSH_USER', 'gitspaces'),
    port: r.int('SSH_PORT', 22, 1, 65535),
    hostKeyPolicy: r.oneOf(
      'SSH_HOST_KEY_POLICY',
      ['guest-attributes', 'known-hosts', 'tofu'],
      'guest-attributes',
    ),
    knownHosts: r.str('SSH_KNOWN_HOSTS'),
    address: r.oneOf('SSH_ADDRESS', ['internal', 'external'], 'internal'),
    proxyCommand: r.str('SSH_PROXY_COMMAND'),
    authorizeKey: r.oneOf('SSH_AUTHORIZE_KEY', ['auto', 'off'], 'auto'),
    iap: r.bool('SSH_IAP', false),
  };
}

/**
 * Reads the configuration from `env` (the only place the product reads the environment), with a `.env`
 * file underneath. Throws one CONFIG_INVALID error listing every missing or invalid value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const merged = options.dotEnv === false ? env : withDotEnv(env, options.dotEnv ?? '.env');
  const r = new EnvReader(merged);
  const userIds = 'Slack user ids (U…/W…) or user-group ids (S…), comma-separated';
  const setupAllowedText = r.str('SETUP_ALLOWED');
  const config: Config = {
    slack: {
      botToken: r.str('SLACK_BOT_TOKEN'),
      signingSecret: r.str('SLACK_SIGNING_SECRET'),
      appToken: r.str('SLACK_APP_TOKEN'),
      apiUrl: withTrailingSlash(r.url('SLACK_API_URL', 'https://slack.com/api/') ?? 'https://slack.com/api/'),
    },
    port: r.int('PORT', 3000, 0, 65535),
    redisUrl: r.url('REDIS_URL', 'redis://127.0.0.1:6379') ?? 'redis://127.0.0.1:6379',
    queuePrefix: r.def('QUEUE_PREFIX', 'gitspaces'),
    workerConcurrency: r.int('WORKER_CONCURRENCY', 10, 1, 1000),
    gcp: {
      project: r.str('GCP_PROJECT'),
      zone: r.str('GCP_ZONE'),
      computeApiUrl: r.url('COMPUTE_API_URL'),
      secretManagerApiUrl: r.url('SECRET_MANAGER_API_URL'),
      osLoginApiUrl: r.url('OS_LOGIN_API_URL'),
      iapTunnelUrl: r.url('IAP_TUNNEL_URL'),
      credentialsFile: r.str('GOOGLE_APPLICATION_CREDENTIALS'),
    },
    secrets: {
      pool: r.str('POOL_SECRET'),
      delegateToken: r.str('DELEGATE_TOKEN_SECRET'),
      sshKey: r.str('SSH_KEY_SECRET'),
      runnerSaKey: r.str('RUNNER_SA_KEY_SECRET'),
    },
    ssh: sshSettings(r),
    harness: {
      accountId: r.str('HARNESS_ACCOUNT_ID'),
      managerUrl: r.url('HARNESS_MANAGER_URL', 'https://app.harness.io') ?? 'https://app.harness.io',
      apiKeySecret: r.str('HARNESS_API_KEY_SECRET'),
    },
    runnerImage: r.def('RUNNER_IMAGE', 'drone/drone-runner-aws:latest'),
    delegateImage: r.def('DELEGATE_IMAGE', DEFAULT_DELEGATE_IMAGE),
    delegateName: r.def('DELEGATE_NAME', '{vm}-delegate'),
    delegateTags: r.def('DELEGATE_TAGS', ''),
    runnerDir: r.def('RUNNER_DIR', '/runner'),
    dockerNetwork: r.def('DOCKER_NETWORK', 'harness'),
    runnerHealthTimeoutMs: r.duration('RUNNER_HEALTH_TIMEOUT', '120s'),
    delegateHealthTimeoutMs: r.duration('DELEGATE_HEALTH_TIMEOUT', '300s'),
    delegateStopTimeoutMs: r.duration('DELEGATE_STOP_TIMEOUT', '10m'),
    runnerStopTimeoutMs: r.duration('RUNNER_STOP_TIMEOUT', '1m'),
    approvers: r.ids('APPROVERS', ID_LIST, userIds) ?? [],
    setupAllowed:
      setupAllowedText === '*' || setupAllowedText === undefined
        ? '*'
        : (r.ids('SETUP_ALLOWED', ID_LIST, userIds) ?? []),
    allowedChannels: r.ids('ALLOWED_CHANNELS', CHANNEL_ID, 'Slack channel ids (C…/G…), comma-separated'),
    allowSelfApproval: r.bool('ALLOW_SELF_APPROVAL', false),
    approvalTtlMs: r.duration('APPROVAL_TTL', '24h'),
    watchIntervalMs: r.watchInterval('WATCH_INTERVAL', '15m'),
    env: merged,
  };
  checkShape(r, config);
  for (const need of options.needs ?? []) requireFor(r, config, need);
  if (r.problems.length > 0) {
    throw new GitspacesError(
      'CONFIG_INVALID',
      `The configuration has ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:\n${r.problems
        .map((p) => `  - ${p}`)
        .join('\n')}\nSet them in the environment or in .env (see .env.example).`,
    );
  }
  return config;
}

function checkShape(r: EnvReader, c: Config): void {
  if (!c.runnerDir.startsWith('/')) r.problems.push(`RUNNER_DIR=${c.runnerDir} must be an absolute path`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(c.dockerNetwork)) {
    r.problems.push(
      `DOCKER_NETWORK=${c.dockerNetwork} is not a Docker network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`,
    );
  }
  if (!/^[a-z_][a-z0-9_-]*$/.test(c.ssh.user))
    r.problems.push(`SSH_USER=${c.ssh.user} is not a Unix user name`);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(c.queuePrefix)) {
    r.problems.push(`QUEUE_PREFIX=${c.queuePrefix} must be 1-32 letters, digits, - or _`);
  }
  const unknown = [...(c.ssh.proxyCommand ?? '').matchAll(PROXY_PLACEHOLDER)].filter((m) => m[2]);
  if (unknown.length > 0)
    r.problems.push(
      `SSH_PROXY_COMMAND names ${unknown.map((m) => m[0]).join(', ')}: it may name {vm}, {zone}, {project}, {host}, {port} and {user}`,
    );
  if (c.ssh.iap && c.ssh.proxyCommand !== undefined)
    r.problems.push('SSH_IAP and SSH_PROXY_COMMAND are both set: SSH goes one way, so set one of them');
  if (c.ssh.hostKeyPolicy === 'known-hosts' && c.ssh.knownHosts === undefined) {
    r.problems.push(
      'SSH_KNOWN_HOSTS is missing (SSH_HOST_KEY_POLICY=known-hosts reads pinned keys from that file)',
    );
  }
}

function requireFor(r: EnvReader, c: Config, need: Need): void {
  switch (need) {
    case 'slack':
      r.require('SLACK_BOT_TOKEN', c.slack.botToken, 'the bot token, xoxb-…, from the Slack app page');
      if (c.slack.appToken === undefined) {
        r.require(
          'SLACK_SIGNING_SECRET',
          c.slack.signingSecret,
          'from the Slack app page, to verify requests',
        );
      }
      return;
    case 'approvers':
      r.require('APPROVERS', c.approvers, 'who may approve installing the delegate');
      return;
    case 'secrets':
      r.require('POOL_SECRET', c.secrets.pool, 'where pool.yaml is kept');
      r.require('DELEGATE_TOKEN_SECRET', c.secrets.delegateToken, 'where the delegate token is kept');
      r.require('SSH_KEY_SECRET', c.secrets.sshKey, 'where the SSH private key is kept');
      return;
    case 'harness':
      r.require('HARNESS_ACCOUNT_ID', c.harness.accountId, 'your Harness account id');
      return;
  }
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * The environment without what holds the bot's secrets (Slack's tokens, Redis's URL, the variables `env:`
 * references name): what a command the bot starts for itself (SSH_PROXY_COMMAND) gets.
 */
export function environmentWithoutSecrets(c: Config): Record<string, string | undefined> {
  const { pool, delegateToken, sshKey, runnerSaKey } = c.secrets;
  const named = [pool, delegateToken, sshKey, runnerSaKey, c.harness.apiKeySecret]
    .filter((ref) => ref?.startsWith('env:'))
    .map((ref) => ref?.slice('env:'.length));
  const held = new Set(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'REDIS_URL', ...named]);
  return Object.fromEntries(Object.entries(c.env).filter(([name]) => !held.has(name)));
}
