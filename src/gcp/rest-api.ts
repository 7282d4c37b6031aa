/**
 * The two Google APIs over plain HTTP, for COMPUTE_API_URL / SECRET_MANAGER_API_URL (emulators, tests): the
 * same REST paths and JSON the generated clients use in fallback mode, without loading them. The Compute
 * client alone parses some 100 MB of protobuf descriptors, which a worker process would otherwise carry
 * for ever. Failures take the shapes `describeGoogleError` reads: the HTTP status with Google's JSON body,
 * or a Node network error code.
 * https://cloud.google.com/compute/docs/reference/rest/v1/instances/get
 * https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { InstancesApi, SecretManagerApi } from './apis.js';

/** Stands in for credentials when an API URL is set: the header is sent, but it is no real token. */
export const NO_CREDENTIALS_TOKEN = 'no-credentials-local-endpoint';

/** An emulator that never answers must not hold a run for ever. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface RestClient {
  /** GET `path` (with its query) and the parsed JSON body; rejects with the status and body on a non-2xx. */
  get<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

/** An HTTP failure as gaxios reports one: `status` and `response.data`. */
function httpFailure(status: number, text: string): Error {
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {}
  const message =
    (data as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${status}: ${text}`;
  return Object.assign(new Error(message), { status, response: { status, data } });
}

export function createRestClient(baseUrl: string): RestClient {
  const base = new URL(baseUrl);
  const https = base.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = https ? httpsRequest : httpRequest;
  return {
    get<T>(path: string): Promise<T> {
      const url = new URL(path, base);
      return new Promise<T>((resolve, reject) => {
        const req = send(
          url,
          {
            method: 'GET',
            agent,
            headers: { accept: 'application/json', authorization: `Bearer ${NO_CREDENTIALS_TOKEN}` },
            timeout: REQUEST_TIMEOUT_MS,
          },
          (res: IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = res.statusCode ?? 0;
              if (status < 200 || status >= 300) return reject(httpFailure(status, text));
              try {
                resolve(JSON.parse(text) as T);
              } catch {
                reject(httpFailure(502, `not JSON: ${text.slice(0, 200)}`));
              }
            });
          },
        );
        req.on('timeout', () =>
          req.destroy(
            Object.assign(new Error(`no answer from ${url.origin} within ${REQUEST_TIMEOUT_MS / 1000}s`), {
              code: 'ETIMEDOUT',
            }),
          ),
        );
        req.on('error', reject);
        req.end();
      });
    },
    async close() {
      agent.destroy();
    },
  };
}

const segment = encodeURIComponent;

/** `compute.instances.get` and `getGuestAttributes` at `baseUrl` (the client adds `/compute/v1/…`). */
export function computeRestApi(baseUrl: string): InstancesApi & { close(): Promise<void> } {
  const rest = createRestClient(baseUrl);
  const instance = (r: { project: string; zone: string; instance: string }) =>
    `/compute/v1/projects/${segment(r.project)}/zones/${segment(r.zone)}/instances/${segment(r.instance)}`;
  return {
    get: async (request) => [await rest.get(instance(request))],
    getGuestAttributes: async (request) => [
      await rest.get(`${instance(request)}/getGuestAttributes?queryPath=${segment(request.queryPath)}`),
    ],
    close: () => rest.close(),
  };
}

/** `secretmanager.versions.access` at `baseUrl` (the client adds `/v1/projects/…:access`). */
export function secretManagerRestApi(baseUrl: string): SecretManagerApi & { close(): Promise<void> } {
  const rest = createRestClient(baseUrl);
  return {
    // The name is checked by parseSecretRef: `projects/…/secrets/…/versions/…`, nothing to escape.
    accessSecretVersion: async (request) => [await rest.get(`/v1/${request.name}:access`)],
    close: () => rest.close(),
  };
}
