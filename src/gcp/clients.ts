/**
 * One client per service, endpoint and deadline for the whole process: each client holds its own
 * connection pool and auth state, and creating one per call leaks them. Google's generated clients are the
 * only way the bot reaches Google, in production and in tests alike (which point them at a local server
 * through COMPUTE_API_URL / SECRET_MANAGER_API_URL). They are imported on first use only: the Compute
 * package alone costs about 170 MB of memory, which a process that never calls it should not pay.
 */
import type { Config } from '../config.js';
import type { InstancesApi, SecretManagerApi } from './apis.js';
import { DEFAULT_CALL_POLICY } from './call-policy.js';
import { clientOptions } from './client-options.js';
import { gcpError } from './fail.js';

export { NO_CREDENTIALS_TOKEN } from './client-options.js';

export interface Closable {
  close(): Promise<unknown>;
}

const clients = new Map<string, Promise<Closable>>();

function cached<T extends Closable>(key: string, create: () => Promise<T>): Promise<T> {
  const existing = clients.get(key);
  if (existing) return existing as Promise<T>;
  const client = create();
  clients.set(key, client);
  // A client that could not be made (no credentials) is not kept: the next call tries again.
  client.catch(() => {
    if (clients.get(key) === client) clients.delete(key);
  });
  return client;
}

/** The clients' own retries are off (`retry: null`): callGoogle applies the bot's policy instead. */
function callOptions(deadlineMs: number) {
  return { timeout: deadlineMs, retry: null };
}

const NO_CREDENTIALS_FIX = {
  compute:
    "or give the VM's address with --host <address> (and its host key with --known-hosts <file>): then the Compute API is not asked at all.",
  secrets: 'or use file:/env: secret references.',
};

/**
 * Looks up the clients' credentials, once. A generated client whose `initialize()` failed rethrows that
 * failure from every later call as an unhandled rejection, which would end the process: so no call is made
 * on it, it is closed, and the failure comes back as what it is.
 */
function initializer(
  clients: { initialize(): Promise<unknown>; close(): Promise<unknown> }[],
  api: keyof typeof NO_CREDENTIALS_FIX,
): () => Promise<void> {
  let done: Promise<void> | undefined;
  const initialize = async () => {
    try {
      for (const client of clients) await client.initialize();
    } catch (error) {
      await Promise.allSettled(clients.map((client) => client.close()));
      // google-auth-library's message ends with a link to a general guide; the fix below is specific.
      const reason = (error instanceof Error ? error.message : String(error)).replace(
        /\s*Browse to .*$/s,
        '',
      );
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
 */
export async function createComputeApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<InstancesApi & GoogleApi> {
  const [{ InstancesClient }, { ProjectsClient }] = await Promise.all([
    import('@google-cloud/compute/build/src/v1/instances_client.js'),
    import('@google-cloud/compute/build/src/v1/projects_client.js'),
  ]);
  const options = await clientOptions(url, deadlineMs);
  const instances = new InstancesClient(options);
  const projects = new ProjectsClient(options);
  const ready = initializer([instances, projects], 'compute');
  const call = callOptions(deadlineMs);
  return {
    ready,
    get: (request) => ready().then(() => instances.get(request, call)),
    getGuestAttributes: (request) => ready().then(() => instances.getGuestAttributes(request, call)),
    getProject: (request) => ready().then(() => projects.get(request, call)),
    close: () => Promise.allSettled([instances.close(), projects.close()]),
  };
}

/** A new Secret Manager client at `url`, or Google's with ADC; credentials are looked up as for Compute. */
export async function createSecretManagerApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<SecretManagerApi & GoogleApi> {
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const client = new SecretManagerServiceClient(await clientOptions(url, deadlineMs));
  const ready = initializer([client], 'secrets');
  const call = callOptions(deadlineMs);
  return {
    ready,
    accessSecretVersion: (request) => ready().then(() => client.accessSecretVersion(request, call)),
    close: () => client.close(),
  };
}

/** A process-wide client is kept only once its credentials are found, so that a failed lookup is retried. */
async function readyClient<T extends GoogleApi>(client: Promise<T>): Promise<T> {
  const api = await client;
  await api.ready();
  return api;
}

/** The process's Compute client: `COMPUTE_API_URL` when set, otherwise Application Default Credentials. */
export function computeClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<InstancesApi & Closable> {
  const url = config.gcp.computeApiUrl;
  return cached(`compute ${url ?? 'google'} ${deadlineMs}`, () =>
    readyClient(createComputeApi(url, deadlineMs)),
  );
}

/** The process's Secret Manager client: `SECRET_MANAGER_API_URL` when set, otherwise ADC. */
export function secretManagerClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<SecretManagerApi & Closable> {
  const url = config.gcp.secretManagerApiUrl;
  return cached(`secrets ${url ?? 'google'} ${deadlineMs}`, () =>
    readyClient(createSecretManagerApi(url, deadlineMs)),
  );
}

/** Closes every client this process made (on shutdown). */
export async function closeGoogleClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map(async (client) => (await client).close()));
}
