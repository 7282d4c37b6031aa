import { createHash } from 'node:crypto';
import { CONTAINER_DIR } from './pool-file.js';
import type { SetupSettings } from './settings.js';

export const RUNNER_NAME = 'vm-runner';
/** Labels the bot puts on its containers, so a later run can tell whether one has the wanted settings. */
export const SPEC_LABEL = 'io.harness.gitspaces.spec';
export const POOL_LABEL = 'io.harness.gitspaces.pool-sha256';

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

export interface ContainerSpec {
  name: string;
  image: string;
  /** The hash that identifies these settings (label SPEC_LABEL). */
  specHash: string;
  /** `docker run` arguments after `run`, without the labels. */
  args: string[];
}

/** The runner exactly as the Harness guide starts it, plus a restart policy and the labels. */
export function runnerSpec(s: SetupSettings, poolHash: string): ContainerSpec & { poolHash: string } {
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
    'unless-stopped',
  ];
  const tail = [s.runnerImage, 'delegate', '--pool', `${CONTAINER_DIR}/pool.yml`];
  const specHash = sha256(JSON.stringify([...args, ...tail, poolHash])).slice(0, 32);
  return {
    name: RUNNER_NAME,
    image: s.runnerImage,
    specHash,
    poolHash,
    args: [...args, '--label', `${SPEC_LABEL}=${specHash}`, '--label', `${POOL_LABEL}=${poolHash}`, ...tail],
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
      'unless-stopped',
      '--env-file',
      envFile,
      '--label',
      `${SPEC_LABEL}=${specHash}`,
      s.delegateImage,
    ],
  };
}

/** What `docker inspect` tells about a container the bot manages. */
export interface ContainerState {
  status: string;
  image: string;
  specHash: string;
  poolHash: string;
}

export const INSPECT_FORMAT = `{{.State.Status}}|{{.Config.Image}}|{{index .Config.Labels "${SPEC_LABEL}"}}|{{index .Config.Labels "${POOL_LABEL}"}}`;

export function parseInspect(stdout: string): ContainerState | undefined {
  const [status, image, specHash, poolHash] = stdout.trim().split('|');
  if (!status || image === undefined) return undefined;
  return { status, image, specHash: specHash ?? '', poolHash: poolHash ?? '' };
}
