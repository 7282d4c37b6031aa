import { OAuth2Client } from 'google-auth-library';
import { NO_CREDENTIALS_TOKEN } from './rest-api.js';

// A type alias, not an interface: the clients' option type has an index signature.
export type EndpointOptions = {
  fallback: true;
  apiEndpoint: string;
  port: number;
  protocol: 'http' | 'https';
  authClient: OAuth2Client;
};

/**
 * Options that send a generated Google client's REST requests to `baseUrl` (scheme, host and port) with no
 * real credentials: the client adds its usual paths (`/compute/v1/…`, `/v1/projects/…`).
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
