import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';
import type { SecretSource } from '../setup/ports.js';
import type { Crc, SecretManagerApi } from './apis.js';
import {
  type CallPolicy,
  callGoogle,
  DEFAULT_CALL_POLICY,
  deadlineText,
  failedCall,
  triesText,
} from './call-policy.js';
import { secretManagerClient } from './clients.js';
import { crc32c } from './crc32c.js';
import { gcpError } from './fail.js';
import { parseSecretRef, type SecretRef } from './secret-ref.js';

export { parseSecretRef, type SecretRef } from './secret-ref.js';

export interface SecretManagerSourceOptions {
  /** Defaults to the process-wide client for `config.gcp.secretManagerApiUrl`. */
  client?: SecretManagerApi;
  /** Deadline and retries of each Secret Manager call (tests shorten them). */
  callPolicy?: CallPolicy;
}

const REACH = 'check network access to secretmanager.googleapis.com (or SECRET_MANAGER_API_URL)';

function failure(thrown: unknown, ref: string, secret: SecretRef): GitspacesError {
  if (thrown instanceof GitspacesError) return thrown;
  const call = failedCall(thrown);
  const google = call.failure;
  const tries = triesText(call);
  const named = ref.trim() === secret.name ? secret.name : `${ref.trim()} (${secret.name})`;
  const options = { cause: thrown, detail: `Google said: ${google.message}` };
  switch (google.status) {
    case 'NOT_FOUND':
      return gcpError(
        'SECRET_NOT_FOUND',
        `The secret ${named} does not exist in Secret Manager (or has no such version).`,
        `Create it (\`gcloud secrets create ${secret.secret} --project ${secret.project}\`, then \`gcloud secrets versions add\`) or fix the reference.`,
        options,
      );
    case 'UNAUTHENTICATED':
      return gcpError(
        'SECRET_PERMISSION_DENIED',
        `Google did not accept the bot's credentials while reading the secret ${named}.`,
        'Give the bot Application Default Credentials: a service account attached to its machine, GOOGLE_APPLICATION_CREDENTIALS, or `gcloud auth application-default login`.',
        options,
      );
    case 'PERMISSION_DENIED':
      return gcpError(
        'SECRET_PERMISSION_DENIED',
        `The bot may not read the secret ${named}: it needs the permission secretmanager.versions.access.`,
        `Grant its service account the Secret Manager Secret Accessor role (roles/secretmanager.secretAccessor) on the secret ${secret.secret} or on project ${secret.project}.`,
        options,
      );
    case 'FAILED_PRECONDITION':
      return gcpError(
        'SECRET_DISABLED',
        `The secret version ${named} is disabled or destroyed, so it cannot be read.`,
        `Enable it (\`gcloud secrets versions enable ${secret.version} --secret ${secret.secret} --project ${secret.project}\`) or point the reference at another version (name@VERSION).`,
        options,
      );
    case 'RESOURCE_EXHAUSTED':
      return gcpError(
        'SECRET_UNREADABLE',
        `The Secret Manager quota of project ${secret.project} was reached while reading ${named}${tries}.`,
        `The run is retried later; if this keeps happening, raise the Secret Manager quota of project ${secret.project} (Google Cloud console, IAM & Admin, Quotas).`,
        { ...options, retryable: true },
      );
    case 'INVALID_ARGUMENT':
      return gcpError(
        'SECRET_INVALID_REF',
        `Secret Manager refused the reference ${named}.`,
        'Fix the reference.',
        options,
      );
    case 'DEADLINE_EXCEEDED':
      return gcpError(
        'SECRET_UNREADABLE',
        `Secret Manager did not answer ${deadlineText(call)} while reading ${named}.`,
        `Try again; if it persists, ${REACH}.`,
        { ...options, retryable: true },
      );
    case 'UNAVAILABLE':
      return gcpError(
        'SECRET_UNREADABLE',
        google.network
          ? `Secret Manager could not be reached while reading ${named} (${google.message})${tries}.`
          : `Secret Manager is unavailable (HTTP ${google.httpStatus ?? '5xx'}) while reading ${named}${tries}.`,
        `Try again later; if it persists, ${REACH}, and https://status.cloud.google.com.`,
        { ...options, retryable: true },
      );
    case 'UNKNOWN':
      return gcpError(
        'SECRET_UNREADABLE',
        `Secret Manager failed while reading ${named}: ${google.message}`,
        `Try again; if it persists, ${REACH}.`,
        { ...options, retryable: true },
      );
  }
}

/** The checksum as sent: a decimal string over REST, a number or a Long over gRPC; undefined when absent. */
function expectedCrc(value: Crc): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

function verify(data: Buffer, sent: Crc, ref: string, secret: SecretRef): void {
  const expected = expectedCrc(sent);
  if (expected === undefined || crc32c(data) === expected) return;
  // Neither the data nor its checksum goes into the message: a checksum of a short secret helps guess it.
  throw gcpError(
    'SECRET_CHECKSUM',
    `The secret ${ref.trim()} (${secret.name}) arrived corrupted: its CRC32C does not match the checksum Secret Manager sent.`,
    'Nothing was used. Run again; if it repeats, re-add the secret version (`gcloud secrets versions add`).',
  );
}

/** Reads secrets from Secret Manager, checking each payload's CRC32C. Values live only in the returned Buffer. */
export function createSecretManagerSource(
  config: Pick<Config, 'gcp'>,
  options: SecretManagerSourceOptions = {},
): SecretSource {
  const policy = options.callPolicy ?? DEFAULT_CALL_POLICY;
  let client = options.client;
  return {
    async read(reference: string): Promise<Buffer> {
      const secret = parseSecretRef(reference, config.gcp.project);
      client ??= await secretManagerClient(config, policy.deadlineMs);
      const api = client;
      let version: Awaited<ReturnType<SecretManagerApi['accessSecretVersion']>>[0];
      try {
        [version] = await callGoogle(() => api.accessSecretVersion({ name: secret.name }), policy);
      } catch (thrown) {
        throw failure(thrown, reference, secret);
      }
      const raw = version.payload?.data;
      const data =
        typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(raw ?? new Uint8Array());
      verify(data, version.payload?.dataCrc32c, reference, secret);
      return data;
    },
  };
}
