import { createHash } from 'node:crypto';
import { CONTAINER_DIR } from './pool-file.js';
import type { SetupSettings } from './settings.js';

export const RUNNER_NAME = 'vm-runner';
/** Labels the bot puts on its containers, so a later run can tell whether one has the wanted settings. */
export const SPEC_LABEL = 'io.harness.gitspaces.spec';
export const POOL_LABEL = 'io.harness.gitspaces.pool-sha256';
/** The image an upgrade chose (absent for the configured one): a later setup keeps it. */
export const IMAGE_LABEL = 'io.harness.gitspaces.image';
/** The delegate's settings that are not secret, so that a change can be named ("DELEGATE_TAGS: a → b"). */
export const SETTINGS_LABEL = 'io.harness.gitspaces.settings';
/** A salted hash of the token: tells "rotated" without holding anything a token could be found from. */
export const TOKEN_LABEL = 'io.harness.gitspaces.token';
/** The container kept while its replacement proves healthy. */
export const previousName = (name: string) => `${name}-previous`;

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

export interface ContainerSpec {
  name: string;
  image: string;
  /** The hash that identifies these settings (label SPEC_LABEL). */
  specHash: string;
  /** `docker run` arguments after `run`. */
  args: string[];
  /** sha256 of the pool file the runner was started with (label POOL_LABEL); runner only. */
  poolHash?: string;
  /**
   * What Docker must still show for the container to be the wanted one: things that change without the
   * labels changing (`docker network rm`, `docker update`, a container made by hand under the name).
   */
  network: string;
  restartPolicy: string;
  /** `3000/tcp=3000` per published port, sorted. */
  ports: string[];
  /** `<source>:<destination>` per mount, sorted. */
  mounts: string[];
}

const RESTART_POLICY = 'unless-stopped';

/**
 * Docker's json-file logs, its default, never rotate unless told (max-size -1), and a daemon's log-opts
 * reach only containers created after they are set; the delegate logs all day, so on GCE's 10 GB boot disk
 * its log alone would fill the VM. The driver stays json-file, bounded at 5 files of 20 MB (the `local`
 * driver's own bounds). https://docs.docker.com/engine/logging/drivers/json-file/
 */
export const LOG_ROTATION = { driver: 'json-file', 'max-size': '20m', 'max-file': '5' } as const;
const LOG_ARGS = [
  '--log-driver',
  LOG_ROTATION.driver,
  '--log-opt',
  `max-size=${LOG_ROTATION['max-size']}`,
  '--log-opt',
  `max-file=${LOG_ROTATION['max-file']}`,
];

/** `--label` for an image an upgrade chose (or a setup kept from one); none for the configured image. */
const imageLabel = (image: string, pinned: boolean) => (pinned ? ['--label', `${IMAGE_LABEL}=${image}`] : []);
/**
 * The runner keeps the Gitspace VMs it manages in a SQLite file whose default path is relative to an
 * image without WORKDIR, i.e. inside the container (drone-runner-aws command/config/config.go): in the
 * mounted runner directory it outlives a recreated container.
 */
export const RUNNER_DATABASE = `${CONTAINER_DIR}/database.sqlite3`;

/** The runner exactly as the Harness guide starts it, plus a restart policy and the labels. */
export function runnerSpec(s: SetupSettings, poolHash: string): ContainerSpec {
  const args = [
    '-d',
    '--name',
    RUNNER_NAME,
    '--network',
    s.dockerNetwork,
    '--hostname',
    RUNNER_NAME,
    '-v',
    `${s.runnerDir}:${CONTAINER_DIR}`,
    '-p',
    '3000:3000',
    '--platform',
    'linux/amd64',
    '--restart',
    RESTART_POLICY,
    '-e',
    `DRONE_DATABASE_DATASOURCE=${RUNNER_DATABASE}`,
  ];
  const tail = [s.runnerImage, 'delegate', '--pool', `${CONTAINER_DIR}/pool.yml`];
  const specHash = sha256(JSON.stringify([...args, ...tail, poolHash])).slice(0, 32);
  return {
    name: RUNNER_NAME,
    image: s.runnerImage,
    specHash,
    poolHash,
    args: [
      ...args,
      ...LOG_ARGS,
      '--label',
      `${SPEC_LABEL}=${specHash}`,
      '--label',
      `${POOL_LABEL}=${poolHash}`,
      ...imageLabel(s.runnerImage, s.pinnedImages?.runner === true),
      ...tail,
    ],
    network: s.dockerNetwork,
    restartPolicy: RESTART_POLICY,
    ports: ['3000/tcp=3000'],
    mounts: [`${s.runnerDir}:${CONTAINER_DIR}`],
  };
}

/** The delegate's environment, as the Harness install command sets it. The token is included: env file only. */
export function delegateEnv(s: SetupSettings, token: string): [string, string][] {
  return [
    ['DELEGATE_NAME', s.delegateName],
    ['DEPLOY_MODE', 'KUBERNETES_ONPREM'],
    ['NEXT_GEN', 'true'],
    ['DELEGATE_TYPE', 'DOCKER'],
    ['ACCOUNT_ID', s.accountId],
    ['DELEGATE_TOKEN', token],
    ['DELEGATE_TAGS', s.delegateTags],
    ['RUNNER_URL', `http://${RUNNER_NAME}:3000/`],
    ['MANAGER_HOST_AND_PORT', s.managerUrl],
  ];
}

/** The delegate's environment without its token: what a label may show. */
export const publicEnv = (s: SetupSettings): [string, string][] =>
  delegateEnv(s, '').filter(([key]) => key !== 'DELEGATE_TOKEN');

/** Salted with the account and delegate name, and cut short: equal tokens match, nothing more is learnt. */
export const tokenMark = (s: SetupSettings, token: string): string =>
  sha256(`gitspaces-bot token mark\0${s.accountId}\0${s.delegateName}\0${token}`).slice(0, 16);

/** `KEY=value` lines for `--env-file` (Docker keeps quotes literally, so none are added). */
export function envFileContent(env: [string, string][]): string {
  for (const [key, value] of env) {
    if (/[\r\n\0]/.test(value)) throw new Error(`${key} cannot contain a line break`);
  }
  return `${env.map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

/**
 * The delegate container. The spec hash covers the token too (as a hash mixed with every other setting),
 * so a rotated token recreates the delegate while the label reveals nothing usable.
 */
export function delegateSpec(s: SetupSettings, token: string, envFile: string): ContainerSpec {
  const base = ['-d', '--name', s.delegateName, '--network', s.dockerNetwork, '--cpus=1', '--memory=2g'];
  const specHash = sha256(JSON.stringify([...base, s.delegateImage, delegateEnv(s, token)])).slice(0, 32);
  return {
    name: s.delegateName,
    image: s.delegateImage,
    specHash,
    args: [
      ...base,
      '--restart',
      RESTART_POLICY,
      ...LOG_ARGS,
      '--env-file',
      envFile,
      '--label',
      `${SPEC_LABEL}=${specHash}`,
      '--label',
      `${SETTINGS_LABEL}=${JSON.stringify(Object.fromEntries(publicEnv(s)))}`,
      '--label',
      `${TOKEN_LABEL}=${tokenMark(s, token)}`,
      ...imageLabel(s.delegateImage, s.pinnedImages?.delegate === true),
      s.delegateImage,
    ],
    network: s.dockerNetwork,
    restartPolicy: RESTART_POLICY,
    ports: [],
    mounts: [],
  };
}
