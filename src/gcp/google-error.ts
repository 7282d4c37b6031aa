/**
 * What went wrong in a Google API call, whatever the transport. In REST ("fallback") mode the clients
 * throw gaxios errors carrying the HTTP status and Google's JSON body
 * (`{"error":{"code","message","status","errors":[{reason}]}}`); in gRPC mode they throw errors with a
 * numeric gRPC `code` and `details`; network failures carry a Node error code (ECONNREFUSED, …).
 */
export type GoogleStatus =
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'FAILED_PRECONDITION'
  | 'INVALID_ARGUMENT'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'UNKNOWN';

export interface GoogleFailure {
  status: GoogleStatus;
  /** HTTP status when the failure came over REST. */
  httpStatus: number | undefined;
  /** Google's own message (names resources and permissions; never secret payloads). */
  message: string;
  /** No answer at all (connection refused, DNS, reset, timeout). */
  network: boolean;
}

// https://github.com/grpc/grpc/blob/master/doc/statuscodes.md
const GRPC: Record<number, GoogleStatus> = {
  3: 'INVALID_ARGUMENT',
  4: 'UNAVAILABLE',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  13: 'UNAVAILABLE',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};
const KNOWN = new Set<string>(Object.values(GRPC));
// Compute answers some rate limits with 403 and one of these reasons rather than 429.
const QUOTA_REASONS = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'quotaExceeded',
  'limitExceeded',
]);

interface GoogleBody {
  error?: { code?: number; message?: string; status?: string; errors?: { reason?: string }[] };
}

function bodyOf(error: Record<string, unknown>): GoogleBody | undefined {
  const data = (error.response as { data?: unknown } | undefined)?.data;
  for (const candidate of [data, error.message]) {
    if (candidate && typeof candidate === 'object') return candidate as GoogleBody;
    if (typeof candidate === 'string' && candidate.trimStart().startsWith('{')) {
      try {
        return JSON.parse(candidate) as GoogleBody;
      } catch {}
    }
  }
  return undefined;
}

function fromHttp(http: number, body: GoogleBody | undefined): GoogleStatus {
  const named = body?.error?.status;
  const reasons = (body?.error?.errors ?? []).map((e) => e.reason ?? '');
  if (reasons.some((r) => QUOTA_REASONS.has(r))) return 'RESOURCE_EXHAUSTED';
  if (named !== undefined && KNOWN.has(named)) return named as GoogleStatus;
  if (http === 400) return 'INVALID_ARGUMENT';
  if (http === 401) return 'UNAUTHENTICATED';
  if (http === 403) return 'PERMISSION_DENIED';
  if (http === 404) return 'NOT_FOUND';
  if (http === 412) return 'FAILED_PRECONDITION';
  if (http === 429) return 'RESOURCE_EXHAUSTED';
  if (http >= 500) return 'UNAVAILABLE';
  return 'UNKNOWN';
}

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_\w+)$/;

export function describeGoogleError(thrown: unknown): GoogleFailure {
  if (!thrown || typeof thrown !== 'object') {
    return { status: 'UNKNOWN', httpStatus: undefined, message: String(thrown), network: false };
  }
  const error = thrown as Record<string, unknown>;
  const body = bodyOf(error);
  const rawMessage = typeof error.message === 'string' ? error.message : String(thrown);
  const details = typeof error.details === 'string' && error.details !== '' ? error.details : undefined;
  const message = body?.error?.message ?? details ?? rawMessage;
  const http = typeof error.status === 'number' ? error.status : body?.error?.code;
  if (typeof http === 'number' && http >= 100) {
    return { status: fromHttp(http, body), httpStatus: http, message, network: false };
  }
  if (typeof error.code === 'number' && GRPC[error.code] !== undefined) {
    return { status: GRPC[error.code] as GoogleStatus, httpStatus: undefined, message, network: false };
  }
  if (typeof error.code === 'string' && NETWORK_CODES.test(error.code)) {
    return { status: 'UNAVAILABLE', httpStatus: undefined, message, network: true };
  }
  // google-auth-library, when Application Default Credentials are missing.
  if (/default credentials|could not load the default/i.test(rawMessage)) {
    return { status: 'UNAUTHENTICATED', httpStatus: undefined, message, network: false };
  }
  return { status: 'UNKNOWN', httpStatus: undefined, message, network: false };
}
