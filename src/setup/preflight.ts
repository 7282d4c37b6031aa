import { GitspacesError } from '../errors.js';
import { sha256 } from './container-specs.js';
import { preparePool } from './pool-file.js';
import type { ConnectOptions, HostKey, HostKeyPin, SecretSource, VmLocator, VmRef } from './ports.js';
import type { Redactor } from './redactor.js';
import { poolSecretValues, saKeyFields } from './secret-values.js';
import type { SetupSettings } from './settings.js';
import type { RunMaterial } from './steps/index.js';

export type SetupTarget =
  | { kind: 'vm'; ref: VmRef }
  | { kind: 'host'; host: string; port: number; name: string };

export interface PinRequest {
  vm: string;
  host: string;
  port: number;
  /** Keys the VM publishes in guest attributes (when the policy reads them). */
  published: HostKey[] | undefined;
}

export interface PreflightDeps {
  secrets: SecretSource;
  vms: VmLocator | undefined;
  pinFor(request: PinRequest): Promise<HostKeyPin>;
  /** Whether the pin policy needs the VM's published host keys (guest attributes). */
  needsPublishedKeys: boolean;
  redactor: Redactor;
}

export interface Preflight {
  host: string;
  port: number;
  /** The VM by name (and zone and project when found through Google), for SSH_PROXY_COMMAND. */
  vm: NonNullable<ConnectOptions['vm']>;
  privateKey: Buffer;
  pin: HostKeyPin;
  material: RunMaterial;
  summary: string;
}

const PRIVATE_KEY = /-----BEGIN (OPENSSH|RSA|EC|DSA)? ?PRIVATE KEY-----/;

/** Reads every secret in parallel; each is registered with the redactor before anything can print it. */
async function readSecrets(settings: SetupSettings, deps: PreflightDeps) {
  const refs = settings.secretRefs;
  const [pool, token, sshKey, saKey] = await Promise.all([
    deps.secrets.read(refs.pool),
    deps.secrets.read(refs.delegateToken),
    deps.secrets.read(refs.sshKey),
    refs.runnerSaKey === undefined ? Promise.resolve(undefined) : deps.secrets.read(refs.runnerSaKey),
  ]);
  const tokenText = token.toString('utf8').replace(/[\r\n]+$/, '');
  deps.redactor.add(tokenText).add(sshKey).add(saKey);
  for (const value of [...saKeyFields(saKey), ...poolSecretValues(pool.toString('utf8'))])
    deps.redactor.add(value);
  if (tokenText === '' || /[\r\n\0]/.test(tokenText)) {
    throw new GitspacesError(
      'SECRET_UNREADABLE',
      `The delegate token (${refs.delegateToken}) is empty or spans several lines.`,
    );
  }
  if (!PRIVATE_KEY.test(sshKey.toString('utf8'))) {
    throw new GitspacesError(
      'SECRET_UNREADABLE',
      `${refs.sshKey} (SSH_KEY_SECRET) is not an SSH private key: store the OpenSSH or PEM private key, not the public key.`,
    );
  }
  return { pool: pool.toString('utf8'), token: tokenText, sshKey, saKey };
}

/** Everything a run needs before it touches the VM. Nothing here writes anything anywhere. */
export async function preflight(
  target: SetupTarget,
  settings: SetupSettings,
  sshPort: number,
  address: 'internal' | 'external',
  deps: PreflightDeps,
): Promise<Preflight> {
  let host: string;
  let port = sshPort;
  let published: HostKey[] | undefined;
  let where: string;
  let named: Preflight['vm'] = { name: settings.vm };
  if (target.kind === 'vm') {
    if (!deps.vms)
      throw new GitspacesError(
        'CONFIG_INVALID',
        'No VM locator is configured: give --host or set GCP_PROJECT.',
      );
    const vm = await deps.vms.locate(target.ref, { address, hostKeys: deps.needsPublishedKeys });
    host = vm.address;
    named = { name: vm.name, zone: vm.zone, project: vm.project };
    published = deps.needsPublishedKeys ? vm.hostKeys : undefined;
    where = `${vm.project}/${vm.zone}/${vm.name} is RUNNING at ${host}`;
  } else {
    host = target.host;
    port = target.port;
    where = `${host}:${port}`;
  }
  const secrets = await readSecrets(settings, deps);
  const pool = preparePool(secrets.pool, { hasSaKey: secrets.saKey !== undefined });
  const pin = await deps.pinFor({ vm: settings.vm, host, port, published });
  return {
    host,
    port,
    vm: named,
    privateKey: secrets.sshKey,
    pin,
    material: { pool, poolHash: sha256(pool.content), token: secrets.token, saKey: secrets.saKey },
    summary: `${where}; ${pin.expected().length || 'no'} host key(s) pinned; secrets readable; pool file valid (${pool.pools.join(', ')})`,
  };
}
