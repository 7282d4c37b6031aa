/**
 * What went wrong in a Google API call. Google's generated clients over REST ("fallback") throw gaxios
 * errors: the HTTP status in `status`, Google's JSON body (`{"error":{"code","message","status",
 * "errors":[{reason}],"details"}}`) as the message, the response's headers in `response.headers`; network
 * failures carry a Node error code (ECONNREFUSED, …); an aborted request (a deadline) is an AbortError.
 * Numeric gRPC codes are still read, for errors gax makes itself.
 */
export type GoogleStatus =
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'FAILED_PRECONDITION'
  | 'INVALID_ARGUMENT'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNKNOWN';

export interface GoogleFailure {
  status: GoogleStatus;
  /** HTTP status when the failure came over REST. */
  httpStatus: number | undefined;
  /** Google's own message (names resources and permissions; never secret payloads). */
  message: string;
  /** Google's `errors[].reason`s, e.g. `conditionNotMet`, `rateLimitExceeded`. */
  reasons: string[];
  /** No answer at all (connection refused, DNS, reset). */
  network: boolean;
  /** How long Google asked to wait (`Retry-After`, or `google.rpc.RetryInfo` in the body). */
  retryAfterMs: number | undefined;
}

// https://github.com/grpc/grpc/blob/master/doc/statuscodes.md
const GRPC: Record<number, GoogleStatus> = {
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
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
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { reason?: string }[];
    details?: { '@type'?: string; retryDelay?: string }[];
  };
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

function fromHttp(http: number, body: GoogleBody | undefined, reasons: string[]): GoogleStatus {
  const named = body?.error?.status;
  if (reasons.some((r) => QUOTA_REASONS.has(r))) return 'RESOURCE_EXHAUSTED';
  if (named !== undefined && KNOWN.has(named)) return named as GoogleStatus;
  if (http === 400) return 'INVALID_ARGUMENT';
  if (http === 401) return 'UNAUTHENTICATED';
  if (http === 403) return 'PERMISSION_DENIED';
  if (http === 404) return 'NOT_FOUND';
  if (http === 412) return 'FAILED_PRECONDITION';
  if (http === 429) return 'RESOURCE_EXHAUSTED';
  if (http === 504) return 'DEADLINE_EXCEEDED';
  if (http >= 500) return 'UNAVAILABLE';
  return 'UNKNOWN';
}

/** `Retry-After` in seconds or as an HTTP date, else RetryInfo's `retryDelay` ("4s", "0.5s"). */
function retryAfterOf(error: Record<string, unknown>, body: GoogleBody | undefined): number | undefined {
  const headers = (error.response as { headers?: { get?(name: string): string | null } } | undefined)
    ?.headers;
  const header = typeof headers?.get === 'function' ? headers.get('retry-after') : null;
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const info = body?.error?.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'));
  const delay = /^(\d+(?:\.\d+)?)s$/.exec(info?.retryDelay ?? '');
  return delay ? Number(delay[1]) * 1000 : undefined;
}

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_\w+)$/;

function isAbort(error: Record<string, unknown>): boolean {
  const cause = error.cause as { name?: unknown } | undefined;
  return [error.name, cause?.name].some((n) => n === 'AbortError' || n === 'TimeoutError');
}

export function describeGoogleError(thrown: unknown): GoogleFailure {
  const none = { httpStatus: undefined, reasons: [], network: false, retryAfterMs: undefined };
  if (!thrown || typeof thrown !== 'object') return { ...none, status: 'UNKNOWN', message: String(thrown) };
  const error = thrown as Record<string, unknown>;
  const body = bodyOf(error);
  const rawMessage = typeof error.message === 'string' ? error.message : String(thrown);
  const details = typeof error.details === 'string' && error.details !== '' ? error.details : undefined;
  const message = body?.error?.message ?? details ?? rawMessage;
  const reasons = (body?.error?.errors ?? []).map((e) => e.reason ?? '').filter((r) => r !== '');
  const http = typeof error.status === 'number' ? error.status : body?.error?.code;
  if (typeof http === 'number' && http >= 100) {
    const retryAfterMs = retryAfterOf(error, body);
    return {
      ...none,
      status: fromHttp(http, body, reasons),
      httpStatus: http,
      message,
      reasons,
      retryAfterMs,
    };
  }
  if (isAbort(error)) return { ...none, status: 'DEADLINE_EXCEEDED', message };
  if (typeof error.code === 'number' && GRPC[error.code] !== undefined) {
    return { ...none, status: GRPC[error.code] as GoogleStatus, message };
  }
  if (typeof error.code === 'string' && NETWORK_CODES.test(error.code)) {
    return { ...none, status: 'UNAVAILABLE', message, network: true };
  }
  // google-auth-library, when Application Default Credentials are missing.
  if (/default credentials|could not load the default/i.test(rawMessage)) {
    return { ...none, status: 'UNAUTHENTICATED', message };
  }
  return { ...none, status: 'UNKNOWN', message };
}
