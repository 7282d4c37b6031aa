/**
 * The composition root: builds the engine's dependencies from the configuration. The only place that knows
 * which adapter implements which port.
 */
import { systemClock } from './clock.js';
import { type Config, environmentWithoutSecrets } from './config.js';
import { egressProxy } from './egress-proxy.js';
import type { InstancesApi, MetadataApi, OsLoginApi } from './gcp/apis.js';
import { accessToken } from './gcp/bot-credentials.js';
import type { CallPolicy } from './gcp/call-policy.js';
import { createComputeLocator } from './gcp/compute.js';
import { createOsLoginKeys } from './gcp/os-login.js';
import { createSecretManagerSource } from './gcp/secrets.js';
import { createMetadataKeys } from './gcp/ssh-keys.js';
import { createDelegateVersions } from './harness/delegate-versions.js';
import { createSecretSource } from './secrets/index.js';
import type { EngineDeps, RunInput, SetupTarget } from './setup/engine.js';
import type {
  ApprovalGate,
  Clock,
  Connector,
  DelegateVersions,
  HostKeyStore,
  Journal,
  KeyAccess,
  Reporter,
  SecretSource,
  VmLocator,
} from './setup/ports.js';
import type { Redactor } from './setup/redactor.js';
import { delegateNameFor, type SetupSettings } from './setup/settings.js';
import { sshConnector } from './ssh/connect.js';
import { iapRoute } from './ssh/iap-tunnel.js';
import { createPinFor } from './ssh/pin-policy.js';
import { publicKeyOf } from './ssh/private-key.js';
import { proxyRoute, type Route } from './ssh/proxy-command.js';

export function settingsFor(
  config: Config,
  vm: string,
  overrides: {
    delegateName?: string | undefined;
    tags?: string | undefined;
    sshUser?: string | undefined;
  } = {},
): SetupSettings {
  return {
    vm,
    sshUser: overrides.sshUser ?? config.ssh.user,
    runnerDir: config.runnerDir,
    dockerNetwork: config.dockerNetwork,
    runnerImage: config.runnerImage,
    delegateImage: config.delegateImage,
    delegateName: delegateNameFor(overrides.delegateName || config.delegateName, vm),
    delegateTags: overrides.tags ?? config.delegateTags,
    accountId: config.harness.accountId?.trim() ?? '',
    managerUrl: config.harness.managerUrl,
    runnerHealthTimeoutMs: config.runnerHealthTimeoutMs,
    delegateHealthTimeoutMs: config.delegateHealthTimeoutMs,
    runnerHealthPort: 3000,
    approvalTtlMs: config.approvalTtlMs,
    delegateStopTimeoutMs: config.delegateStopTimeoutMs,
    runnerStopTimeoutMs: config.runnerStopTimeoutMs,
    secretRefs: {
      pool: config.secrets.pool ?? '',
      delegateToken: config.secrets.delegateToken ?? '',
      sshKey: config.secrets.sshKey ?? '',
      runnerSaKey: config.secrets.runnerSaKey,
    },
  };
}

export function runInputFor(
  config: Config,
  runId: string,
  mode: 'setup' | 'plan',
  target: SetupTarget,
  settings: SetupSettings,
): RunInput {
  return { runId, mode, target, settings, sshPort: config.ssh.port, address: config.ssh.address };
}

/**
 * Where the bot's key is let in: the VM's ssh-keys metadata, or with OS Login the bot's own profile, through
 * the clients given (check-config's bounded ones) or the process's.
 */
export function metadataKeyAccess(
  config: Config,
  clients: { compute?: InstancesApi & MetadataApi; osLogin?: OsLoginApi; callPolicy?: CallPolicy } = {},
): KeyAccess {
  const { compute, osLogin, callPolicy } = clients;
  const profile = createOsLoginKeys(config, {
    ...(osLogin && { client: osLogin }),
    ...(callPolicy && { callPolicy }),
  });
  const metadata = createMetadataKeys(config, {
    osLogin: profile,
    ...(compute && { client: compute }),
    ...(callPolicy && { callPolicy }),
  });
  return { letIn: (vm, user, privateKey, write) => metadata.add(vm, user, publicKeyOf(privateKey), write) };
}

/** Process-wide adapters: one Google client per service, created on first use. */
let shared: { secrets: SecretSource; vms: VmLocator; keys: KeyAccess } | undefined;
function sharedAdapters(config: Config) {
  shared ??= {
    secrets: createSecretSource({ env: config.env, secretManager: createSecretManagerSource(config) }),
    vms: createComputeLocator(config),
    keys: metadataKeyAccess(config),
  };
  return shared;
}

/** How the VM's host key is pinned, from SSH_HOST_KEY_POLICY (and SSH_KNOWN_HOSTS). */
export function pinPolicy(config: Config, store: HostKeyStore | undefined, storeDescription?: string) {
  return {
    needsPublishedKeys: config.ssh.hostKeyPolicy === 'guest-attributes',
    pinFor: createPinFor({
      policy: config.ssh.hostKeyPolicy,
      knownHostsFile: config.ssh.knownHosts,
      store,
      storeDescription,
    }),
  };
}

export interface EngineParts {
  reporter: Reporter;
  gate: ApprovalGate;
  journal: Journal;
  hostKeyStore?: HostKeyStore;
  vms?: VmLocator;
  secrets?: SecretSource;
  connect?: Connector;
  keys?: KeyAccess;
  clock?: Clock;
  signal?: AbortSignal;
  redactor?: Redactor;
}

/** The engine's adapters beyond a run's own reporter, gate and journal (tests pass ones for their VMs). */
export type EngineAdapters = Omit<EngineParts, 'reporter' | 'gate' | 'journal' | 'hostKeyStore' | 'signal'>;

/** With HARNESS_API_KEY_SECRET, the engine can name Harness's latest supported delegate. */
function delegateVersionsFor(config: Config, secrets: SecretSource) {
  const { apiKeySecret, accountId, managerUrl } = config.harness;
  if (apiKeySecret === undefined || accountId === undefined) return {};
  const key = `${managerUrl}\0${accountId}\0${apiKeySecret}`;
  let versions = versionsCache.get(key);
  if (!versions) {
    versions = createDelegateVersions({
      managerUrl,
      accountId: accountId.trim(),
      apiKeyRef: apiKeySecret,
      secrets,
      fetch: egressProxy(config.env)?.fetch,
    });
    versionsCache.set(key, versions);
  }
  return { delegateVersions: versions };
}
const versionsCache = new Map<string, DelegateVersions>();

/** How SSH reaches the VMs: over TCP, SSH_PROXY_COMMAND (in the bot's environment without its secrets), or IAP. */
export function sshRoute(config: Config): Route | undefined {
  if (config.ssh.iap) {
    const agentFor = egressProxy(config.env)?.agentFor;
    return iapRoute({ url: config.gcp.iapTunnelUrl, token: accessToken(config), agentFor });
  }
  const command = config.ssh.proxyCommand;
  return command === undefined ? undefined : proxyRoute({ command, env: environmentWithoutSecrets(config) });
}

/** Who lets the bot's key in on a VM that refuses it: none with SSH_AUTHORIZE_KEY=off, or for a VM given by address. */
function keyAccess(config: Config, parts: EngineParts): { keys?: KeyAccess } {
  if (config.ssh.authorizeKey === 'off') return {};
  const keys = parts.keys ?? (parts.vms === undefined ? sharedAdapters(config).keys : undefined);
  return keys === undefined ? {} : { keys };
}

export function createEngineDeps(config: Config, parts: EngineParts): EngineDeps {
  const needsShared = parts.secrets === undefined || parts.vms === undefined;
  const adapters = needsShared ? sharedAdapters(config) : undefined;
  const policy = pinPolicy(config, parts.hostKeyStore);
  return {
    secrets: parts.secrets ?? (adapters as NonNullable<typeof adapters>).secrets,
    vms: parts.vms ?? adapters?.vms,
    connect: parts.connect ?? sshConnector(sshRoute(config)),
    ...keyAccess(config, parts),
    pinFor: policy.pinFor,
    needsPublishedKeys: policy.needsPublishedKeys,
    reporter: parts.reporter,
    gate: parts.gate,
    journal: parts.journal,
    clock: parts.clock ?? systemClock,
    ...(parts.signal ? { signal: parts.signal } : {}),
    ...delegateVersionsFor(config, parts.secrets ?? (adapters as NonNullable<typeof adapters>).secrets),
    ...(parts.redactor ? { redactor: parts.redactor } : {}),
  };
}
