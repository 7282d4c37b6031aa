/**
 * The bot's own Application Default Credentials, outside the generated clients: who it is (the identity
 * whose OS Login profile holds its key) and a bearer token for the endpoint no generated client covers
 * (IAP's tunnel relay). One GoogleAuth per credentials file for the whole process: it caches the token and
 * refreshes it before it expires.
 */
import type { GoogleAuth } from 'google-auth-library';
import type { Config } from '../config.js';
import { gcpError } from './fail.js';

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
const auths = new Map<string, Promise<GoogleAuth>>();

/** google-auth-library's message without the link to its general guide it ends with (the bot says the fix). */
export function credentialsReason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*Browse to .*$/s, '');
}

/** The process's GoogleAuth for GOOGLE_APPLICATION_CREDENTIALS (or, without it, ADC's other sources). */
export function botAuth(config: Pick<Config, 'gcp'>): Promise<GoogleAuth> {
  const file = config.gcp.credentialsFile;
  let auth = auths.get(file ?? '');
  if (auth === undefined) {
    auth = import('google-auth-library').then(
      ({ GoogleAuth }) =>
        new GoogleAuth({ scopes: SCOPES, ...(file === undefined ? {} : { keyFilename: file }) }),
    );
    auths.set(file ?? '', auth);
  }
  return auth;
}

/** A bearer token for IAP's relay; undefined for a local one (IAP_TUNNEL_URL), as the API URLs get none. */
export function accessToken(config: Pick<Config, 'gcp'>): () => Promise<string | undefined> {
  if (config.gcp.iapTunnelUrl !== undefined) return async () => undefined;
  return async () => {
    try {
      return (await (await botAuth(config)).getAccessToken()) ?? undefined;
    } catch (error) {
      throw gcpError(
        'GCP_NO_CREDENTIALS',
        `No Google credentials were found for IAP (${credentialsReason(error)}).`,
        "Run the bot with a service account (GOOGLE_APPLICATION_CREDENTIALS, or the VM's attached one) that has roles/iap.tunnelResourceAccessor, or reach the VMs another way (SSH_IAP=false).",
        { cause: error },
      );
    }
  };
}
