/**
 * How Google's generated clients are built: over REST (`fallback: true`, so Secret Manager does not use
 * gRPC and its minute-long retry policy), with Application Default Credentials, or, when an API URL is set
 * (emulators, tests), at that endpoint with an auth client holding a dummy token so that no real
 * credential is sent. Every HTTP request the auth client makes, token requests included, is aborted after
 * `deadlineMs`: the clients' own `timeout` option does not reach the request over REST.
 */
import type { InstancesClient } from '@google-cloud/compute';
import type { GoogleAuth, OAuth2Client } from 'google-auth-library';

/** Stands in for credentials when an API URL is set: the header is sent, but it is no real token. */
export const NO_CREDENTIALS_TOKEN = 'no-credentials-local-endpoint';

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

// A type alias, not an interface: the clients' option type has an index signature.
export type ClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]> &
  ({ fallback: true; auth: GoogleAuth } | { fallback: true; authClient: OAuth2Client });

let metadataWarningsDropped = false;

/**
 * google-auth-library looks for the metadata server (a Google VM's attached service account) and, when it
 * is not there, prints a MetadataLookupWarning to stderr. Off Google Cloud that is the normal case, and a
 * missing credential is reported by the bot itself (GCP_NO_CREDENTIALS) with what to do.
 */
function dropMetadataLookupWarnings(): void {
  if (metadataWarningsDropped) return;
  metadataWarningsDropped = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const option = args[1];
    const type = typeof option === 'string' ? option : (option as { type?: unknown } | undefined)?.type;
    if (type !== 'MetadataLookupWarning') emit(...args);
  }) as typeof process.emitWarning;
}

export async function clientOptions(url: string | undefined, deadlineMs: number): Promise<ClientOptions> {
  const { GoogleAuth, OAuth2Client } = await import('google-auth-library');
  const transporterOptions = { timeout: deadlineMs };
  if (url === undefined) {
    dropMetadataLookupWarnings();
    return {
      fallback: true,
      auth: new GoogleAuth({ scopes: SCOPES, clientOptions: { transporterOptions } }),
    };
  }
  const endpoint = new URL(url);
  const protocol = endpoint.protocol === 'https:' ? 'https' : 'http';
  const authClient = new OAuth2Client({ transporterOptions });
  authClient.setCredentials({ access_token: NO_CREDENTIALS_TOKEN });
  return {
    fallback: true,
    apiEndpoint: endpoint.hostname,
    port: endpoint.port === '' ? (protocol === 'https' ? 443 : 80) : Number(endpoint.port),
    protocol,
    authClient,
  };
}
