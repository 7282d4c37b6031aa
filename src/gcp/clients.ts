import { InstancesClient } from '@google-cloud/compute';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';

/**
 * One client per service and endpoint for the whole process: each client holds its own connection pool and
 * auth state, and creating one per call leaks them.
 */
const clients = new Map<string, InstancesClient | SecretManagerServiceClient>();

/** Stands in for credentials when an API URL is set: the header is sent, but it is no real token. */
export const NO_CREDENTIALS_TOKEN = 'no-credentials-local-endpoint';

// A type alias, not an interface: the clients' option type has an index signature.
type EndpointOptions = {
  fallback: true;
  apiEndpoint: string;
  port: number;
  protocol: 'http' | 'https';
  authClient: OAuth2Client;
};

/**
 * Options that send a client's REST requests to `baseUrl` (scheme, host and port) with no real credentials:
 * the client adds its usual paths (`/compute/v1/…`, `/v1/projects/…`).
 */
export function endpointOptions(baseUrl: string): EndpointOptions {
  const url = new URL(baseUrl);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: NO_CREDENTIALS_TOKEN });
  return {
    fallback: true,
    apiEndpoint: url.hostname,
    port: url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port),
    protocol,
    authClient,
  };
}

function cached<T extends InstancesClient | SecretManagerServiceClient>(key: string, create: () => T): T {
  const existing = clients.get(key);
  if (existing) return existing as T;
  const client = create();
  clients.set(key, client);
  return client;
}

/** The Compute Engine instances client: `COMPUTE_API_URL` when set, otherwise Application Default Credentials. */
export function computeClient(config: Pick<Config, 'gcp'>): InstancesClient {
  const url = config.gcp.computeApiUrl;
  return cached(`compute ${url ?? 'google'}`, () =>
    url === undefined ? new InstancesClient() : new InstancesClient(endpointOptions(url)),
  );
}

/** The Secret Manager client: `SECRET_MANAGER_API_URL` when set, otherwise Application Default Credentials. */
export function secretManagerClient(config: Pick<Config, 'gcp'>): SecretManagerServiceClient {
  const url = config.gcp.secretManagerApiUrl;
  return cached(`secrets ${url ?? 'google'}`, () =>
    url === undefined
      ? new SecretManagerServiceClient()
      : new SecretManagerServiceClient(endpointOptions(url)),
  );
}

/** Closes every client this process made (on shutdown). */
export async function closeGoogleClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map((client) => client.close()));
}

const initialized = new WeakMap<object, Promise<void>>();

/**
 * The client once its credentials are found. A generated client whose `initialize()` failed rethrows that
 * failure from every later call as an unhandled rejection, which would end the process: so no call is made
 * on it, it is dropped from the cache, and the failure comes back as what it is.
 */
export async function ready<T extends InstancesClient | SecretManagerServiceClient>(client: T): Promise<T> {
  let done = initialized.get(client);
  if (!done) {
    done = client.initialize().then(() => undefined);
    initialized.set(client, done);
  }
  try {
    await done;
    return client;
  } catch (error) {
    for (const [key, value] of clients) if (value === client) clients.delete(key);
    const reason = error instanceof Error ? error.message : String(error);
    throw new GitspacesError(
      'GCP_NO_CREDENTIALS',
      `No Google credentials were found (${reason}). Run the bot with a service account (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached service account), or use file:/env: secret references.`,
      { cause: error },
    );
  }
}
