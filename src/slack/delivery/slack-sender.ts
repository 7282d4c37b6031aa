/**
 * Every Web API call the bot makes outside a request's 3 s window goes through here. The Web API client is
 * built with `rejectRateLimitedCalls` and no retries, because its own handling pauses its whole queue on a
 * 429 (one channel's limit would stall every run); instead this waits out `Retry-After` for that channel or
 * method only, paces chat.postMessage (~1/s per channel) and chat.update (Tier 3, ~50/min) ahead of time,
 * and keeps retrying while Slack is unreachable, so that a Slack outage delays messages but fails nothing.
 * https://docs.slack.dev/apis/web-api/rate-limits
 */
import { webApi } from '@slack/bolt';
import { boltLogger, type Log } from '../log.js';

type WebClient = InstanceType<typeof webApi.WebClient>;
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

/** The sender was closed (or the deadline passed) before Slack answered. */
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

export interface SlackSenderOptions {
  client: WebClient;
  log: Log;
  observer?: SlackCallObserver | undefined;
  /** chat.update calls per minute across this process. @defaultValue 50 */
  updatesPerMinute?: number;
  /** Least time between two chat.postMessage in one channel. @defaultValue 1000 */
  postSpacingMs?: number;
  /** Longest wait between attempts while Slack is down. @defaultValue 30 s */
  maxBackoffMs?: number;
}

export interface SendOptions {
  /** Stop trying after this many ms (answers to a person); default: keep trying until closed. */
  deadlineMs?: number;
}

export interface SlackSender {
  call(method: string, args: Record<string, unknown>, options?: SendOptions): Promise<CallResult>;
  close(): void;
}

/** `ok: false` errors that are Slack having a bad moment rather than a bad request. */
const TRANSIENT = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

/** Builds the Web API client the sender needs: no built-in retries, 429s thrown, bounded request time. */
export function createSenderClient(token: string | undefined, slackApiUrl: string, log?: Log): WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl,
    ...(log === undefined ? {} : { logger: boltLogger(log) }),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
  });
}

export function createSlackSender(options: SlackSenderOptions): SlackSender {
  const { client, log } = options;
  const perMinute = options.updatesPerMinute ?? 50;
  const spacing = options.postSpacingMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const closing = new AbortController();
  /** Earliest time the next call of a key (method, or method+channel) may go. */
  const notBefore = new Map<string, number>();
  const updates: number[] = [];

  const sleep = (ms: number, deadline: number) =>
    new Promise<void>((resolve, reject) => {
      if (closing.signal.aborted) return reject(new Error('closed'));
      if (Date.now() + ms > deadline) return reject(new Error('deadline passed'));
      const timer = setTimeout(done, ms);
      function done() {
        closing.signal.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(new Error('closed'));
      }
      closing.signal.addEventListener('abort', abort, { once: true });
    });

  const keyOf = (method: string, args: Record<string, unknown>) =>
    method === 'chat.postMessage' ? `${method}:${String(args.channel)}` : method;

  /** Reserves the next slot for this call and says how long to wait for it. */
  function reserve(method: string, key: string): number {
    const now = Date.now();
    let at = Math.max(now, notBefore.get(key) ?? 0);
    if (method === 'chat.postMessage') notBefore.set(key, at + spacing);
    if (method === 'chat.update') {
      while (updates.length > 0 && (updates[0] as number) <= at - 60_000) updates.shift();
      if (updates.length >= perMinute)
        at = Math.max(at, (updates[updates.length - perMinute] as number) + 60_000);
      updates.push(at);
    }
    return at - now;
  }

  async function call(
    method: string,
    args: Record<string, unknown>,
    send: SendOptions = {},
  ): Promise<CallResult> {
    const deadline = send.deadlineMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + send.deadlineMs;
    const key = keyOf(method, args);
    let backoff = 1000;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await sleep(reserve(method, key), deadline);
        options.observer?.call(method);
        return (await client.apiCall(method, args)) as unknown as CallResult;
      } catch (error) {
        const wait = retryDelay(error, backoff);
        if (wait === undefined) throw refusal(method, error);
        if (attempt === 1 || attempt % 10 === 0) {
          log.warn(
            { method, attempt, waitMs: wait, reason: describe(error) },
            'Slack call failed, trying again',
          );
        }
        if (isRateLimited(error)) {
          options.observer?.rateLimited(method);
          // Only this channel (or method) waits; the next reserve() honours it.
          notBefore.set(key, Date.now() + wait);
          continue;
        }
        backoff = Math.min(backoff * 2, maxBackoff);
        try {
          await sleep(wait, deadline);
        } catch (stopped) {
          throw new SlackUnavailableError(method, stopped);
        }
      }
    }
  }

  return { call, close: () => closing.abort() };
}

function isRateLimited(error: unknown): error is { retryAfter: number } {
  return (error as { code?: string }).code === webApi.ErrorCode.RateLimitedError;
}

/** How long to wait before trying again, or undefined when another attempt cannot help. */
function retryDelay(error: unknown, backoff: number): number | undefined {
  if (isRateLimited(error)) return Math.max(1, error.retryAfter) * 1000;
  const code = (error as { code?: string }).code;
  if (code === webApi.ErrorCode.RequestError || code === webApi.ErrorCode.HTTPError) return backoff;
  if (code === webApi.ErrorCode.PlatformError) {
    const slackError = (error as { data?: { error?: string } }).data?.error ?? '';
    return TRANSIENT.has(slackError) ? backoff : undefined;
  }
  return undefined;
}

function refusal(method: string, error: unknown): Error {
  const slackError = (error as { data?: { error?: string } }).data?.error;
  if (slackError !== undefined) return new SlackRefusedError(method, slackError);
  return new SlackUnavailableError(method, error);
}

function describe(error: unknown): string {
  if (isRateLimited(error)) return `rate limited for ${error.retryAfter}s`;
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined) return `HTTP ${status}`;
  return error instanceof Error ? error.message : String(error);
}
