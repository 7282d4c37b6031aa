/**
 * One client per service, endpoint and deadline for the whole process: each client holds its own
 * connection pool and auth state, and creating one per call leaks them. Google's generated clients are the
 * only way the bot reaches Google, in production and in tests alike (which point them at a local server
 * through COMPUTE_API_URL / SECRET_MANAGER_API_URL). They are imported on first use only: the Compute
 * package alone costs about 170 MB of memory, which a process that never calls it should not pay.
 */
import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';
import type { InstancesApi, SecretManagerApi } from './apis.js';
import { DEFAULT_CALL_POLICY } from './call-policy.js';
import { clientOptions } from './client-options.js';

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
    "or run setup with --host <address> (and --known-hosts <file>): then the Compute API is not asked for the VM's address and keys.",
  secrets: 'or use file:/env: secret references.',
};

/**
 * The client once its credentials are found. A generated client whose `initialize()` failed rethrows that
 * failure from every later call as an unhandled rejection, which would end the process: so no call is made
 * on it, and the failure comes back as what it is.
 */
async function ready<T extends { initialize(): Promise<unknown>; close(): Promise<unknown> }>(
  client: T,
  api: keyof typeof NO_CREDENTIALS_FIX,
): Promise<T> {
  try {
    await client.initialize();
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new GitspacesError(
      'GCP_NO_CREDENTIALS',
      `No Google credentials were found (${reason}). Run the bot with a service account (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached service account), ${NO_CREDENTIALS_FIX[api]}`,
      { cause: error },
    );
  }
}

/** A new Compute client (instances and projects) at `url`, or Google's with ADC. */
export async function createComputeApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<InstancesApi & Closable> {
  const { InstancesClient, ProjectsClient } = await import('@google-cloud/compute');
  const options = await clientOptions(url, deadlineMs);
  const instances = await ready(new InstancesClient(options), 'compute');
  const projects = await ready(new ProjectsClient(options), 'compute');
  const call = callOptions(deadlineMs);
  return {
    get: (request) => instances.get(request, call),
    getGuestAttributes: (request) => instances.getGuestAttributes(request, call),
    getProject: (request) => projects.get(request, call),
    close: () => Promise.allSettled([instances.close(), projects.close()]),
  };
}

/** A new Secret Manager client at `url`, or Google's with ADC. */
export async function createSecretManagerApi(
  url: string | undefined,
  deadlineMs: number,
): Promise<SecretManagerApi & Closable> {
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const client = await ready(new SecretManagerServiceClient(await clientOptions(url, deadlineMs)), 'secrets');
  const call = callOptions(deadlineMs);
  return {
    accessSecretVersion: (request) => client.accessSecretVersion(request, call),
    close: () => client.close(),
  };
}

/** The process's Compute client: `COMPUTE_API_URL` when set, otherwise Application Default Credentials. */
export function computeClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<InstancesApi & Closable> {
  const url = config.gcp.computeApiUrl;
  return cached(`compute ${url ?? 'google'} ${deadlineMs}`, () => createComputeApi(url, deadlineMs));
}

/** The process's Secret Manager client: `SECRET_MANAGER_API_URL` when set, otherwise ADC. */
export function secretManagerClient(
  config: Pick<Config, 'gcp'>,
  deadlineMs = DEFAULT_CALL_POLICY.deadlineMs,
): Promise<SecretManagerApi & Closable> {
  const url = config.gcp.secretManagerApiUrl;
  return cached(`secrets ${url ?? 'google'} ${deadlineMs}`, () => createSecretManagerApi(url, deadlineMs));
}

/** Closes every client this process made (on shutdown). */
export async function closeGoogleClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map(async (client) => (await client).close()));
}
