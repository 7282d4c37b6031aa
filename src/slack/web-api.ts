/**
 * The Web API client and what its errors mean. The client never retries and never waits out a 429 itself
 * (`@slack/web-api` would pause its whole queue: one channel's limit would stall every run); callers decide:
 * the delivery queue delays the one job a 429 concerns, and calls made while a person waits (`call`) retry
 * within a deadline. https://docs.slack.dev/apis/web-api/rate-limits
 */
import { ErrorCode, WebClient } from '@slack/web-api';
import type { Log } from '../log.js';
import { retrying } from '../retry.js';
import { withTimeout } from '../timeout.js';
import { boltLogger } from './log.js';

export type CallResult = Record<string, unknown>;

/** Slack answered `ok: false` for a reason another attempt cannot fix (bad arguments, missing channel…). */
export class SlackRefusedError extends Error {
  constructor(
    readonly method: string,
    readonly slackError: string,
  ) {
    super(`Slack refused ${method}: ${slackError}`);
    this.name = 'SlackRefusedError';
  }
}

/** Slack did not answer (in time). */
export class SlackUnavailableError extends Error {
  constructor(method: string, cause: unknown) {
    super(`Slack did not take ${method}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'SlackUnavailableError';
  }
}

/** Told of every Web API call attempt and every 429 (metrics). */
export interface SlackCallObserver {
  call(method: string): void;
  rateLimited(method: string): void;
}

/** `ok: false` errors that are Slack having a bad moment rather than a bad request. */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** What a failed call means: wait `ms` for this limit, try again after a backoff, or give up. */
export type Failure = { kind: 'rate-limited'; ms: number } | { kind: 'transient' } | { kind: 'refused' };

export function classify(error: unknown): Failure {
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.RateLimitedError)
    return { kind: 'rate-limited', ms: Math.max(1, (error as { retryAfter: number }).retryAfter) * 1000 };
  if (code === ErrorCode.RequestError || code === ErrorCode.HTTPError) return { kind: 'transient' };
  const slackError = (error as { data?: { error?: string } }).data?.error ?? '';
  return code === ErrorCode.PlatformError && TRANSIENT.has(slackError)
    ? { kind: 'transient' }
    : { kind: 'refused' };
}

/** The error to show for a call given up on. */
function givenUp(method: string, error: unknown): Error {
  const slackError = (error as { data?: { error?: string } }).data?.error;
  if (slackError !== undefined && classify(error).kind === 'refused')
    return new SlackRefusedError(method, slackError);
  return new SlackUnavailableError(method, error);
}

export interface SlackCalls {
  /** One call, tried again while Slack is away or limiting it, for at most `deadlineMs` (default 10 s). */
  call(method: string, args: Record<string, unknown>, options?: { deadlineMs?: number }): Promise<CallResult>;
  /** One attempt, as the delivery queue makes them (it decides itself when to try again). */
  once(method: string, args: Record<string, unknown>): Promise<CallResult>;
  /** Shares a text file in a channel, tried again like `call` within `deadlineMs` (default 30 s). */
  uploadFile(file: FileUpload, options?: { deadlineMs?: number }): Promise<void>;
}

export interface FileUpload {
  channel: string;
  filename: string;
  title: string;
  content: string;
  /** The message posted with the file. */
  comment?: string;
}

/** Waits out a 429's Retry-After, backs off after Slack's own failures, gives up on a refusal. */
function delayFor(error: unknown, backoffMs: number): number | undefined {
  const failure = classify(error);
  if (failure.kind === 'refused') return undefined;
  return failure.kind === 'rate-limited' ? failure.ms : backoffMs;
}

/** `work` tried again while Slack is away or limiting it, until `deadlineMs` from now. */
async function within<T>(method: string, deadlineMs: number, work: () => Promise<T>): Promise<T> {
  const end = Date.now() + deadlineMs;
  const attempt = () =>
    withTimeout(work(), Math.max(1, end - Date.now()), () => new Error('deadline passed'));
  try {
    return await retrying(attempt, { delayFor, deadline: end });
  } catch (error) {
    throw givenUp(method, error);
  }
}

export function createSlackCalls(options: {
  token: string | undefined;
  apiUrl: string;
  log?: Log | undefined;
  observer?: SlackCallObserver | undefined;
  /** The egress proxy's fetch (egress-proxy.ts), when one is set. */
  fetch?: typeof fetch | undefined;
}): SlackCalls {
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.log === undefined ? {} : { logger: boltLogger(options.log) }),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
  });
  /** One attempt, told to the observer, its 429 too. */
  async function observed<T>(method: string, work: () => Promise<T>): Promise<T> {
    options.observer?.call(method);
    try {
      return await work();
    } catch (error) {
      if (classify(error).kind === 'rate-limited') options.observer?.rateLimited(method);
      throw error;
    }
  }
  const once = (method: string, args: Record<string, unknown>) =>
    observed(method, async () => (await client.apiCall(method, args)) as unknown as CallResult);
  /**
   * files.uploadV2 is the client's own sequence, not one method: files.getUploadURLExternal, a POST of the bytes
   * to the URL it returns, then files.completeUploadExternal, which shares the file in `channel_id`.
   * https://docs.slack.dev/messaging/working-with-files#uploading_files
   */
  const upload = (file: FileUpload) =>
    observed('files.uploadV2', async () => {
      await client.filesUploadV2({
        channel_id: file.channel,
        filename: file.filename,
        title: file.title,
        content: file.content,
        ...(file.comment === undefined ? {} : { initial_comment: file.comment }),
      });
    });
  return {
    once,
    call: (method, args, { deadlineMs = 10_000 } = {}) =>
      within(method, deadlineMs, () => once(method, args)),
    uploadFile: (file, { deadlineMs = 30_000 } = {}) =>
      within('files.uploadV2', deadlineMs, () => upload(file)),
  };
}
