/**
 * Google clients of their own for `check-config`, whose calls end on time. Over REST (Compute always, both
 * APIs when an API URL is set) a call's `timeout` option is not applied and a request to an address that
 * never answers stays open for minutes, keeping the command from exiting after it printed its table. So
 * every request made through these clients' credentials carries an abort signal: its own timeout, and
 * `close()`, which ends whatever is still open.
 */
import { InstancesClient } from '@google-cloud/compute';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { GoogleAuth } from 'google-auth-library';
import type { Config } from '../config.js';
import type { InstancesApi, SecretManagerApi } from '../gcp/apis.js';
import { endpointOptions } from '../gcp/endpoint-options.js';

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

export interface PromptClients {
  secrets: SecretManagerApi;
  compute: InstancesApi;
  /** Aborts requests still open and closes the clients. */
  close(): Promise<void>;
}

type Fetch = (
  input: unknown,
  init?: { signal?: AbortSignal | null } & Record<string, unknown>,
) => Promise<unknown>;

/** Makes every `fetch` of `auth` abortable by timeout and by `done`. */
function bounded<T extends object>(auth: T, timeoutMs: number, done: AbortSignal): T {
  const holder = auth as unknown as { fetch: Fetch };
  const original = holder.fetch.bind(auth);
  holder.fetch = (input, init = {}) => {
    const signals = [AbortSignal.timeout(timeoutMs), done, ...(init.signal ? [init.signal] : [])];
    return original(input, { ...init, signal: AbortSignal.any(signals) });
  };
  return auth;
}

function options(url: string | undefined, timeoutMs: number, done: AbortSignal) {
  if (url === undefined) return { auth: bounded(new GoogleAuth({ scopes: SCOPES }), timeoutMs, done) };
  const local = endpointOptions(url);
  return { ...local, authClient: bounded(local.authClient, timeoutMs, done) };
}

/**
 * The client once its credentials are found. A generated client whose `initialize()` failed rethrows that
 * failure from every call as an unhandled rejection, which ends the process: so no call is made on it, and
 * the failure comes back as what it is, a credentials problem (gRPC UNAUTHENTICATED).
 */
async function ready<T extends { initialize(): Promise<unknown> }>(client: T): Promise<T> {
  try {
    await client.initialize();
    return client;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw Object.assign(new Error(`no Google credentials: ${reason}`), { code: 16 });
  }
}

export function createPromptClients(config: Pick<Config, 'gcp'>, timeoutMs: number): PromptClients {
  const done = new AbortController();
  let secretClient: Promise<SecretManagerServiceClient> | undefined;
  let computeClient: Promise<InstancesClient> | undefined;
  // Over gRPC (Secret Manager without an API URL) the timeout becomes the call's deadline.
  const call = { timeout: timeoutMs, maxRetries: 0 };
  const secrets = () => {
    secretClient ??= ready(
      new SecretManagerServiceClient(options(config.gcp.secretManagerApiUrl, timeoutMs, done.signal)),
    );
    return secretClient;
  };
  const compute = () => {
    computeClient ??= ready(new InstancesClient(options(config.gcp.computeApiUrl, timeoutMs, done.signal)));
    return computeClient;
  };
  return {
    secrets: { accessSecretVersion: async (request) => (await secrets()).accessSecretVersion(request, call) },
    compute: {
      get: async (request) => (await compute()).get(request, call),
      getGuestAttributes: async (request) => (await compute()).getGuestAttributes(request, call),
    },
    async close() {
      done.abort();
      const clients = await Promise.allSettled([secretClient, computeClient]);
      await Promise.allSettled(clients.map((c) => (c.status === 'fulfilled' ? c.value?.close() : undefined)));
    },
  };
}
