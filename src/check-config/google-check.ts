import { readFile } from 'node:fs/promises';
import { metadataKeyAccess, sshRoute } from '../compose.js';
import type { Config } from '../config.js';
import { seconds } from '../duration.js';
import { checkGoogle } from '../gcp/check.js';
import { createComputeLocator } from '../gcp/compute.js';
import { gcpError } from '../gcp/fail.js';
import { createSecretManagerSource } from '../gcp/secrets.js';
import { createSecretSource, usesSecretManager } from '../secrets/index.js';
import type { KeyAccess, SecretSource, VmLocator } from '../setup/ports.js';
import { withTimeout } from '../timeout.js';
import { createPromptClients, type PromptClients } from './google-clients.js';
import { type ConfigCheckRow, failRow, okRow, skipRow } from './rows.js';
import { checkKey, checkReach } from './vm-checks.js';

function timedOut(what: string, endpoint: string, timeoutMs: number) {
  return () =>
    gcpError(
      'GCP_UNAVAILABLE',
      `${what} did not answer within ${seconds(timeoutMs)}.`,
      `Check network access to ${endpoint} and that the bot has Google credentials (Application Default Credentials).`,
    );
}

/** Each reference read once (the SSH key's row reads it again), each read bounded by `timeoutMs`. */
function boundedSecrets(source: SecretSource, config: Config, timeoutMs: number): SecretSource {
  const endpoint = config.gcp.secretManagerApiUrl ?? 'secretmanager.googleapis.com';
  const reads = new Map<string, Promise<Buffer>>();
  return {
    read(reference) {
      let read = reads.get(reference);
      if (read === undefined) {
        read = withTimeout(
          source.read(reference),
          timeoutMs,
          timedOut(`Reading the secret ${reference}`, endpoint, timeoutMs),
        );
        reads.set(reference, read);
      }
      return read;
    },
  };
}

function boundedVms(locator: VmLocator, config: Config, timeoutMs: number): VmLocator {
  const endpoint = config.gcp.computeApiUrl ?? 'compute.googleapis.com';
  return {
    locate: (ref, wanted) =>
      withTimeout(
        locator.locate(ref, wanted),
        timeoutMs,
        timedOut(`The Compute API (VM ${ref.name})`, endpoint, timeoutMs),
      ),
  };
}

/** With SSH_HOST_KEY_POLICY=known-hosts, the pinned keys come from a file that must be there. */
async function checkKnownHosts(config: Config): Promise<ConfigCheckRow[]> {
  const file = config.ssh.knownHosts;
  if (config.ssh.hostKeyPolicy !== 'known-hosts' || file === undefined) return [];
  const check = 'SSH_KNOWN_HOSTS';
  try {
    const text = await readFile(file, 'utf8');
    const entries = text
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('#')).length;
    return entries > 0
      ? [okRow(check, `${file} is readable, ${entries} host key line${entries === 1 ? '' : 's'}`)]
      : [
          failRow(
            check,
            `${file} holds no host keys`,
            `Add the VM's key: \`ssh-keyscan -t ed25519 <host> >> ${file}\`, then check its fingerprint (\`ssh-keygen -lf ${file}\`) against the one the VM's console shows (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`).`,
          ),
        ];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return [
      failRow(
        check,
        `${file} cannot be read (${code})`,
        'Point SSH_KNOWN_HOSTS at a readable known_hosts file.',
      ),
    ];
  }
}

/** The checks of the Google side, their clients built (see `prepareGoogleSide`). */
export interface GoogleSide {
  check(): Promise<ConfigCheckRow[]>;
}

/**
 * Builds the Google clients the checks need, before any check runs: secrets (each reference resolves;
 * never a value), the VM given on the command line, and the known_hosts file; each Google call bounded by
 * `timeoutMs`, and nothing left open afterwards so the command can exit.
 */
export async function prepareGoogleSide(
  config: Config,
  vm: string | undefined,
  timeoutMs: number,
): Promise<GoogleSide> {
  const clients = createPromptClients(config, timeoutMs);
  await clients.prepare({ compute: vm !== undefined, secrets: usesSecretManager(config.secrets) });
  const secretManager = createSecretManagerSource(config, {
    client: clients.secrets,
    callPolicy: clients.policy,
  });
  const secrets = createSecretSource({ env: config.env, secretManager });
  const vms = createComputeLocator(config, {
    client: clients.compute,
    callPolicy: clients.policy,
    hostKeyRetryDelaysMs: [],
  });
  return {
    async check() {
      try {
        const bounded = boundedSecrets(secrets, config, timeoutMs);
        const rows = await checkGoogle(config, {
          secrets: bounded,
          vms: boundedVms(vms, config, timeoutMs),
          vm,
          vmChecks: async (found) => {
            const keys = keyAccess(config, clients, timeoutMs);
            const [reach, key] = await Promise.all([
              checkReach(config, found, sshRoute(config), timeoutMs),
              keys === undefined ? [] : checkKey(config, found, keys, bounded),
            ]);
            return [reach, ...key];
          },
        });
        const converted = rows.map((r) =>
          r.ok ? okRow(r.check, r.detail) : failRow(r.check, r.detail, r.fix),
        );
        return [...converted, ...vmHint(vm), ...(await checkKnownHosts(config))];
      } finally {
        await clients.close();
      }
    },
  };
}

/**
 * Where setup would let the key in, read without writing (undefined with SSH_AUTHORIZE_KEY=off), bounded
 * as a whole: finding the bot's identity for OS Login is a credentials lookup no client deadline covers.
 */
function keyAccess(config: Config, clients: PromptClients, timeoutMs: number): KeyAccess | undefined {
  if (config.ssh.authorizeKey === 'off') return undefined;
  const { compute, osLogin, policy: callPolicy } = clients;
  const keys = metadataKeyAccess(config, { compute, osLogin, callPolicy });
  const endpoints = `${config.gcp.computeApiUrl ?? 'compute.googleapis.com'} and ${config.gcp.osLoginApiUrl ?? 'oslogin.googleapis.com'}`;
  return {
    letIn: (vm, user, privateKey) =>
      withTimeout(
        keys.letIn(vm, user, privateKey, false),
        timeoutMs,
        timedOut(`Looking for the bot's key on VM ${vm.name}`, endpoints, timeoutMs),
      ),
  };
}

function vmHint(vm: string | undefined): ConfigCheckRow[] {
  if (vm !== undefined) return [];
  return [
    skipRow(
      'VM',
      "no VM given: `check-config <vm>` also finds it with its address and host keys, reads its sshd's greeting the way setup reaches it, and says where the bot's key stands",
    ),
  ];
}

export async function checkGoogleSide(
  config: Config,
  vm: string | undefined,
  timeoutMs: number,
): Promise<ConfigCheckRow[]> {
  return (await prepareGoogleSide(config, vm, timeoutMs)).check();
}
