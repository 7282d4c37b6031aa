/**
 * Google clients of `check-config`'s own: the same generated clients the bot runs with, made for one
 * command whose every call must end within its check's bound, and closed when it is done so the command
 * can exit.
 */
// Loaded with the command, before any check's clock starts: parsing Google's packages blocks the event loop
// for seconds, which, done lazily during the checks, would run every other check (Redis, Slack) out of time.
import '@google-cloud/compute/build/src/v1/instances_client.js';
import '@google-cloud/compute/build/src/v1/projects_client.js';
import '@google-cloud/os-login';
import '@google-cloud/secret-manager';
import 'google-auth-library';
import type { Config } from '../config.js';
import type { InstancesApi, MetadataApi, OsLoginApi, SecretManagerApi } from '../gcp/apis.js';
import type { CallPolicy } from '../gcp/call-policy.js';
import {
  createComputeApi,
  createOsLoginApi,
  createSecretManagerApi,
  type GoogleApi,
} from '../gcp/clients.js';

export interface PromptClients {
  secrets: SecretManagerApi;
  /** Its metadata writes are never called: checks change nothing. */
  compute: InstancesApi & MetadataApi;
  osLogin: OsLoginApi;
  /** One attempt per call, bounded by the check's timeout: a check reports, the user runs it again. */
  policy: CallPolicy;
  /**
   * Builds the clients the checks will use now, not during them: building Compute's is seconds of
   * synchronous work, which would run every check that is under way out of its time.
   */
  prepare(needs: { compute: boolean; secrets: boolean }): Promise<void>;
  close(): Promise<void>;
}

export function createPromptClients(config: Pick<Config, 'gcp'>, timeoutMs: number): PromptClients {
  let secretClient: Promise<SecretManagerApi & GoogleApi> | undefined;
  let computeClient: Promise<InstancesApi & MetadataApi & GoogleApi> | undefined;
  let osLoginClient: Promise<OsLoginApi & GoogleApi> | undefined;
  const secrets = () => {
    secretClient ??= createSecretManagerApi(config.gcp.secretManagerApiUrl, timeoutMs);
    return secretClient;
  };
  const compute = () => {
    computeClient ??= createComputeApi(config.gcp.computeApiUrl, timeoutMs);
    return computeClient;
  };
  const osLogin = () => {
    osLoginClient ??= createOsLoginApi(config.gcp.osLoginApiUrl, timeoutMs);
    return osLoginClient;
  };
  return {
    secrets: { accessSecretVersion: async (request) => (await secrets()).accessSecretVersion(request) },
    osLogin: {
      getLoginProfile: async (request) => (await osLogin()).getLoginProfile(request),
      importSshPublicKey: async (request) => (await osLogin()).importSshPublicKey(request),
    },
    compute: {
      get: async (request) => (await compute()).get(request),
      getGuestAttributes: async (request) => (await compute()).getGuestAttributes(request),
      getProject: async (request) => (await compute()).getProject(request),
      setMetadata: async (request) => (await compute()).setMetadata(request),
      getZoneOperation: async (request) => (await compute()).getZoneOperation(request),
    },
    policy: { deadlineMs: timeoutMs, retryDelaysMs: [], budgetMs: timeoutMs },
    async prepare(needs) {
      const wanted = [needs.compute ? compute() : undefined, needs.secrets ? secrets() : undefined];
      // Credentials too (bounded by google-auth-library's own lookup timeouts): a missing one then fails
      // each check that needs it at once, with GCP_NO_CREDENTIALS.
      await Promise.all(wanted.map(async (client) => (await client)?.ready().catch(() => undefined)));
    },
    async close() {
      const clients = await Promise.allSettled([secretClient, computeClient, osLoginClient]);
      await Promise.allSettled(clients.map((c) => (c.status === 'fulfilled' ? c.value?.close() : undefined)));
    },
  };
}
