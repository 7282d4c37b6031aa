/**
 * One coded error type for the whole product. `message` is written for the person reading Slack or the
 * terminal: it says what is wrong and how to fix it. `retryable` tells the queue whether another attempt
 * can help (a dropped connection can; a bad pool file cannot).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'VM_NAME_INVALID'
  | 'VM_NOT_FOUND'
  | 'VM_NOT_RUNNING'
  | 'VM_NO_ADDRESS'
  | 'GCP_PERMISSION_DENIED'
  | 'GCP_QUOTA'
  | 'GCP_UNAVAILABLE'
  | 'GCP_NO_CREDENTIALS'
  | 'HOST_KEYS_UNPUBLISHED'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_MISMATCH'
  | 'HOST_KEY_INVALID'
  | 'SSH_KEY_INVALID'
  | 'SECRET_INVALID_REF'
  | 'SECRET_NOT_FOUND'
  | 'SECRET_PERMISSION_DENIED'
  | 'SECRET_DISABLED'
  | 'SECRET_CHECKSUM'
  | 'SECRET_UNREADABLE'
  | 'POOL_INVALID'
  | 'SSH_CONNECT_FAILED'
  | 'SSH_AUTH_FAILED'
  | 'SSH_DISCONNECTED'
  | 'COMMAND_FAILED'
  | 'COMMAND_TIMEOUT'
  | 'SUDO_REQUIRED'
  | 'FORWARDING_REFUSED'
  | 'TOOL_MISSING'
  | 'IMAGE_PULL_FAILED'
  | 'DOCKER_UNAVAILABLE'
  | 'CONTAINER_MISSING'
  | 'HEALTH_TIMEOUT'
  | 'HARNESS_API_FAILED'
  | 'APPROVAL_REJECTED'
  | 'APPROVAL_EXPIRED'
  | 'APPROVAL_REQUIRED'
  | 'CANCELLED'
  | 'RUN_ACTIVE'
  | 'NOT_ALLOWED'
  | 'REDIS_UNAVAILABLE'
  | 'SLACK_UNAVAILABLE'
  | 'INTERNAL';

export interface GitspacesErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra lines worth showing under the message (a redacted log tail, a fingerprint pair). */
  detail?: string;
}

export class GitspacesError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: GitspacesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GitspacesError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.detail = options.detail;
  }
}

export function isGitspacesError(value: unknown): value is GitspacesError {
  return value instanceof GitspacesError;
}

/** Wraps anything thrown into a coded error, keeping the original as `cause`. */
export function asGitspacesError(value: unknown, fallback: ErrorCode = 'INTERNAL'): GitspacesError {
  if (value instanceof GitspacesError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new GitspacesError(fallback, message, { cause: value });
}
