/**
 * One client per service, endpoint and deadline for the whole process: each client holds its own
 * connection pool and auth state, and creating one per call leaks them. Google's generated clients are the
 * only way the bot reaches Google, in production and in tests alike (which point them at a local server
 * through COMPUTE_API_URL / SECRET_MANAGER_API_URL). They are imported on first use, or when a worker
 * starts (`warmGoogleClients`), never with the code: a process that never calls Google does not pay their
 * tens of MB.
 */
import type { Config } from '../config.js';
import { usesSecretManager } from '../secrets/index.js';
import type { InstancesApi, MetadataApi, Operation, OsLoginApi, SecretManagerApi } from './apis.js';
import { credentialsReason } from './bot-credentials.js';
import { DEFAULT_CALL_POLICY } from './call-policy.js';
import { clientOptions } from './client-options.js';
import { gcpError } from './fail.js';

export { NO_CREDENTIALS_TOKEN } from './client-options.js';

export interface Closable {
  close(): Promise<unknown>;
}

const clients = new Map<string, Promise<GoogleApi>>();

/** The process's client under `key`, built once (its credentials not looked up yet). */
function built<T extends GoogleApi>(key: string, create: () => Promise<T>): Promise<T> {
  let client = clients.get(key) as Promise<T> | undefined;
  if (client === undefined) {
    client = create();
    clients.set(key, client);
  }
  return client;
}

/** The clients' own retries are off (`retry: null`): callGoogle applies the bot's policy instead. */
function callOptions(deadlineMs: number) {
  return { timeout: deadlineMs, retry: null };
}

const NO_CREDENTIALS_FIX = {
  osLogin: 'or turn SSH_AUTHORIZE_KEY off and add the key to an OS Login profile yourself.',
  compute:
    "or give the VM's address with --host <address> (and its host key with --known-hosts <file>): then the Compute API is not asked at all.",
  secrets: 'or use file:/env: secret references.',
};

type InitializedClient = { initialize(): Promise<unknown>; close(): Promise<unknown> };

/**
 * Looks up the clients' credentials, once. A generated client whose `initialize()` failed rethrows that
 * failure from every later call as an unhandled rejection, which would end the process: so no call is made
 * on it, it is closed, and the failure comes back as what it is.
 */
function initializer(
  clients: InitializedClient[],
  api: keyof typeof NO_CREDENTIALS_FIX,
): () => Promise<void> {
  let done: Promise<void> | undefined;
  const initialize = async () => {
    try {
      for (const client of clients) await client.initialize();
    } catch (error) {
      await Promise.allSettled(clients.map((client) => client.close()));
      const reason = credentialsReason(error);
      throw gcpError(
        'GCP_NO_CREDENTIALS',
        `No Google credentials were found (${reason.replace(/\.$/, '')}).`,
        `Run the bot with a service account (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached service account), ${NO_CREDENTIALS_FIX[api]}`,
        { cause: error },
      );
    }
  };
  return () => {
    done ??= initialize();
    return done;
  };
}

export interface GoogleApi extends Closable {
  /** Resolves once credentials are found; rejects with GCP_NO_CREDENTIALS (and so does every call) if not. */
  ready(): Promise<void>;
}

/**
 * A new Compute client (instances and projects) at `url`, or Google's with ADC. Building it is seconds of
 * synchronous work (Compute's descriptors); credentials are looked up on `ready()` or the first call.
 * The two clients are loaded from their own modules: the package's index loads every client of three API
 * versions and a 30 MB module of static protos, about 70 MB more in every worker (docs/performance.md, 6a).
 * The zone-operations client, needed only when the bot adds its key to a VM, is loaded on that first use.
 */
export async function createComputeApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<InstancesApi & MetadataApi & GoogleApi> {
  const [{ InstancesClient }, { ProjectsClient }] = await Promise.all([
    import('@google-cloud/compute/build/src/v1/instances_client.js'),
    import('@google-cloud/compute/build/src/v1/projects_client.js'),
  ]);
  const options = await clientOptions(url, deadlineMs);
  const instances = new InstancesClient(options);
  const projects = new ProjectsClient(options);
  const ready = initializer([instances, projects], 'compute');
  const call = callOptions(deadlineMs);
  let operations: Promise<{ get: OperationsGet; close(): Promise<unknown> }> | undefined;
  const zoneOperations = () => {
    operations ??= import('@google-cloud/compute/build/src/v1/zone_operations_client.js').then(
      async ({ ZoneOperationsClient }) => {
        const client = new ZoneOperationsClient(options);
        await client.initialize();
        return { get: (request) => client.get(request, call), close: () => client.close() };
      },
    );
    return operations;
  };
  return {
    ready,
    get: (request) => ready().then(() => instances.get(request, call)),
    getGuestAttributes: (request) => ready().then(() => instances.getGuestAttributes(request, call)),
    getProject: (request) => ready().then(() => projects.get(request, call)),
    // The client wraps the operation for a poller that Compute's REST clients do not have: unwrap it.
    setMetadata: async (request) => {
      await ready();
      const [started] = await instances.setMetadata(request, call);
      return [started.latestResponse as Operation];
    },
    getZoneOperation: async (request) => {
      await ready();
      return (await zoneOperations()).get(request);
    },
    close: () =>
      Promise.allSettled([
        instances.close(),
        projects.close(),
        ...(operations ? [operations.then((client) => client.close())] : []),
      ]),
  };
}

type OperationsGet = (request: {
  project: string;
  zone: string;
  operation: string;
}) => Promise<[Operation, ...unknown[]]>;

/** One generated client at `url` (or Google's with ADC), the check of its credentials, and each call's options. */
async function oneClient<C extends InitializedClient>(
  Client: new (options: Awaited<ReturnType<typeof clientOptions>>) => C,
  url: string | undefined,
  deadlineMs: number,
  api: keyof typeof NO_CREDENTIALS_FIX,
) {
  const client = new Client(await clientOptions(url, deadlineMs));
  return { client, ready: initializer([client], api), call: callOptions(deadlineMs) };
}

/** A new Secret Manager client at `url`, or Google's with ADC; credentials are looked up as for Compute. */
export async function createSecretManagerApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<SecretManagerApi & GoogleApi> {
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const { client, ready, call } = await oneClient(SecretManagerServiceClient, url, deadlineMs, 'secrets');
  return {
    ready,
    accessSecretVersion: (request) => ready().then(() => client.accessSecretVersion(request, call)),
    close: () => client.close(),
  };
}

/** A new OS Login client at `url`, or Google's with ADC; credentials are looked up as for Compute. */
export async function createOsLoginApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<OsLoginApi & GoogleApi> {
  const { OsLoginServiceClient } = await import('@google-cloud/os-login');
  const { client, ready, call } = await oneClient(OsLoginServiceClient, url, deadlineMs, 'osLogin');
  return {
    ready,
    getLoginProfile: (request) => ready().then(() => client.getLoginProfile(request, call)),
    importSshPublicKey: (request) => ready().then(() => client.importSshPublicKey(request, call)),
    close: () => client.close(),
  };
}

/** The client under `key` once its credentials are found; one that could not be made is dropped, to be made again. */
async function readyClient<T extends GoogleApi>(key: string, create: () => Promise<T>): Promise<T> {
  const client = built(key, create);
  try {
    const api = await client;
    await api.ready();
    return api;
  } catch (error) {
    if (clients.get(key) === client) clients.delete(key);
    throw error;
  }
}

type Made<T> = [key: string, create: () => Promise<T>];

function compute(
  config: Pick<Config, 'gcp'>,
  deadlineMs: number,
): Made<InstancesApi & MetadataApi & GoogleApi> {
  const url = config.gcp.computeApiUrl;
  return [`compute ${url ?? 'google'} ${deadlineMs}`, () => createComputeApi(url, deadlineMs)];
}

function secretManager(config: Pick<Config, 'gcp'>, deadlineMs: number): Made<SecretManagerApi & GoogleApi> {
  const url = config.gcp.secretManagerApiUrl;
  return [`secrets ${url ?? 'google'} ${deadlineMs}`, () => createSecretManagerApi(url, deadlineMs)];
}

/** The process's Compute client: `COMPUTE_API_URL` when set, otherwise Application Default Credentials. */
export function computeClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<InstancesApi & MetadataApi & Closable> {
  return readyClient(...compute(config, deadlineMs));
}

/** The process's Secret Manager client: `SECRET_MANAGER_API_URL` when set, otherwise ADC. */
export function secretManagerClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<SecretManagerApi & Closable> {
  return readyClient(...secretManager(config, deadlineMs));
}

/** The process's OS Login client: `OS_LOGIN_API_URL` when set, otherwise ADC. */
export function osLoginClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<OsLoginApi & Closable> {
  const url = config.gcp.osLoginApiUrl;
  return readyClient(`os-login ${url ?? 'google'} ${deadlineMs}`, () => createOsLoginApi(url, deadlineMs));
}

/** Closes every client this process made (on shutdown). */
export async function closeGoogleClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map(async (client) => (await client).close()));
}

/**
 * Loads and builds the clients a worker's runs use, before it takes jobs: loading Compute's two clients and
 * building their descriptors is about two seconds, one of them synchronous, that would otherwise fall on the
 * first runs (and, in `serve`, on the acks of the commands that started them). Credentials are looked up at
 * the first call, as before, which also reports their absence.
 */
export async function warmGoogleClients(config: Pick<Config, 'gcp' | 'secrets'>): Promise<void> {
  const deadlineMs = DEFAULT_CALL_POLICY.deadlineMs;
  const secrets = usesSecretManager(config.secrets);
  await Promise.allSettled([
    built(...compute(config, deadlineMs)),
    ...(secrets ? [built(...secretManager(config, deadlineMs))] : []),
  ]);
}
