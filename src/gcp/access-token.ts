/**
 * A bearer token of the bot's Application Default Credentials, for the Google endpoints that no generated
 * client covers (IAP's tunnel relay). google-auth-library caches it and refreshes it before it expires.
 */
import type { Config } from '../config.js';
import { gcpError } from './fail.js';

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

type TokenSource = () => Promise<string | undefined>;
/** One per credentials file for the whole process, so that its token is fetched once and reused. */
const sources = new Map<string, TokenSource>();

/** Undefined for a local relay (IAP_TUNNEL_URL): no credential is sent there, as for the API URLs. */
export function accessToken(config: Pick<Config, 'gcp'>): TokenSource {
  if (config.gcp.iapTunnelUrl !== undefined) return async () => undefined;
  const key = config.gcp.credentialsFile ?? '';
  let source = sources.get(key);
  if (source === undefined) {
    source = tokenSource(config);
    sources.set(key, source);
  }
  return source;
}

function tokenSource(config: Pick<Config, 'gcp'>): TokenSource {
  let auth: Promise<{ getAccessToken(): Promise<string | null | undefined> }> | undefined;
  return async () => {
    auth ??= import('google-auth-library').then(({ GoogleAuth }) => {
      const file = config.gcp.credentialsFile;
      return new GoogleAuth({ scopes: SCOPES, ...(file === undefined ? {} : { keyFilename: file }) });
    });
    try {
      return (await (await auth).getAccessToken()) ?? undefined;
    } catch (error) {
      throw gcpError(
        'GCP_NO_CREDENTIALS',
        `No Google credentials were found for IAP (${error instanceof Error ? error.message.replace(/\s*Browse to .*$/s, '') : String(error)}).`,
        "Run the bot with a service account (GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached one) that has roles/iap.tunnelResourceAccessor, or reach the VMs another way (SSH_IAP=false).",
        { cause: error },
      );
    }
  };
}
