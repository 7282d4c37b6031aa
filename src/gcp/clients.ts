/**
 * One client per service and endpoint for the whole process: each client holds its own connection pool and
 * auth state, and creating one per call leaks them. With an API URL the plain REST clients of rest-api.ts
 * are used; Google's generated clients are imported only when the real APIs are called, on first use: the
 * Compute one costs about 100 MB of memory, which a process that never calls it should not pay.
 */
import type { InstancesClient } from '@google-cloud/compute';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';
import type { InstancesApi, SecretManagerApi } from './apis.js';
import { computeRestApi, secretManagerRestApi } from './rest-api.js';

export { NO_CREDENTIALS_TOKEN } from './rest-api.js';

interface Closable {
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

/** The Compute Engine instances client: `COMPUTE_API_URL` when set, otherwise Application Default Credentials. */
export function computeClient(config: Pick<Config, 'gcp'>): Promise<InstancesApi & Closable> {
  const url = config.gcp.computeApiUrl;
  if (url !== undefined) return cached(`compute ${url}`, async () => computeRestApi(url));
  return cached('compute google', async () => {
    const { InstancesClient } = await import('@google-cloud/compute');
    return ready(new InstancesClient());
  });
}

/** The Secret Manager client: `SECRET_MANAGER_API_URL` when set, otherwise Application Default Credentials. */
export function secretManagerClient(config: Pick<Config, 'gcp'>): Promise<SecretManagerApi & Closable> {
  const url = config.gcp.secretManagerApiUrl;
  if (url !== undefined) return cached(`secrets ${url}`, async () => secretManagerRestApi(url));
  return cached('secrets google', async () => {
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    return ready(new SecretManagerServiceClient());
  });
}

/** Closes every client this process made (on shutdown). */
export async function closeGoogleClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map(async (client) => (await client).close()));
}

/**
 * The client once its credentials are found. A generated client whose `initialize()` failed rethrows that
 * failure from every later call as an unhandled rejection, which would end the process: so no call is made
 * on it, and the failure comes back as what it is.
 */
async function ready<T extends InstancesClient | SecretManagerServiceClient>(client: T): Promise<T> {
  try {
    await client.initialize();
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new GitspacesError(
      'GCP_NO_CREDENTIALS',
      `No Google credentials were found (${reason}). Run the bot with a service account (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached service account), or use file:/env: secret references.`,
      { cause: error },
    );
  }
}
