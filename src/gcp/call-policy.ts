/**
 * How long one Google call may take and when it is tried again. Google's generated clients bring their own
 * policies (Secret Manager over gRPC retries RESOURCE_EXHAUSTED/UNAVAILABLE for about a minute; Compute over
 * REST has no working deadline at all: its `timeout` option is not applied to the HTTP request), so the bot
 * turns theirs off (`retry: null`) and applies this one to every call:
 * - each attempt has a deadline: the HTTP request is aborted (the auth client's transporter timeout) and
 *   the call fails as "did not answer within N s", never retried: the server took the connection and
 *   said nothing, and a second wait would double a wait the run already made;
 * - a quota answer (429, RESOURCE_EXHAUSTED, 403 rateLimitExceeded) or an outage (5xx, a refused or reset
 *   connection) is tried again after 1, 2, 4 and 8 s, or after what Google asks (Retry-After or RetryInfo)
 *   when that is longer: a blip clears within those 15 s, and a quota per minute is reported rather than
 *   waited out;
 * - no retry starts that could end after the budget (30 s from the first attempt): a run hears within
 *   30 s at most, and the queue's own retry of the run takes it from there;
 * - every other answer (4xx other than 429) is final at once: asking again gets the same answer.
 */
import { GitspacesError } from '../errors.js';
import { withTimeout } from '../timeout.js';
import { describeGoogleError, type GoogleFailure } from './google-error.js';

export interface CallPolicy {
  /** Bound of one attempt. */
  deadlineMs: number;
  /** Waits before the retries of a quota or outage answer (so `length + 1` attempts at most). */
  retryDelaysMs: readonly number[];
  /** No retry starts unless it can end within this long from the first attempt. */
  budgetMs: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = {
  deadlineMs: 20_000,
  retryDelaysMs: [1_000, 2_000, 4_000, 8_000],
  budgetMs: 30_000,
};

/** A retry shorter than this is not worth starting. */
const SHORTEST_ATTEMPT_MS = 500;

/** A call that failed for good: what Google said last, how often it was asked and for how long. */
export class GoogleCallError extends Error {
  constructor(
    readonly failure: GoogleFailure,
    readonly attempts: number,
    readonly elapsedMs: number,
    readonly deadlineMs: number,
    cause: unknown,
  ) {
    super(failure.message, { cause });
    this.name = 'GoogleCallError';
  }
}

/** Google's clients time out as `TimeoutError`, which describeGoogleError reads as no answer. */
const noAnswer = (ms: number) =>
  Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' });

function retryWait(failure: GoogleFailure, policy: CallPolicy, attempt: number): number | undefined {
  if (failure.status !== 'RESOURCE_EXHAUSTED' && failure.status !== 'UNAVAILABLE') return undefined;
  const backoff = policy.retryDelaysMs[attempt - 1];
  return backoff === undefined ? undefined : Math.max(backoff, failure.retryAfterMs ?? 0);
}

/** Runs `call` under `policy`; a failure comes back as a GoogleCallError holding Google's last answer. */
export async function callGoogle<T>(call: () => Promise<T>, policy: CallPolicy): Promise<T> {
  const started = Date.now();
  let deadlineMs = policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(call(), deadlineMs, () => noAnswer(deadlineMs));
    } catch (thrown) {
      // Already said in the bot's words (no credentials): nothing to retry or map.
      if (thrown instanceof GitspacesError) throw thrown;
      const failure = describeGoogleError(thrown);
      const elapsed = Date.now() - started;
      const wait = retryWait(failure, policy, attempt);
      const left = policy.budgetMs - elapsed - (wait ?? 0);
      if (wait === undefined || left < SHORTEST_ATTEMPT_MS) {
        throw new GoogleCallError(failure, attempt, elapsed, deadlineMs, thrown);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      deadlineMs = Math.min(policy.deadlineMs, left);
    }
  }
}

export interface FailedCall {
  failure: GoogleFailure;
  attempts: number;
  elapsedMs: number;
  /** The bound of the last attempt. */
  deadlineMs: number | undefined;
}

/** What a failed call said, however it failed (through `callGoogle` or not). */
export function failedCall(thrown: unknown): FailedCall {
  if (thrown instanceof GoogleCallError) return thrown;
  return { failure: describeGoogleError(thrown), attempts: 1, elapsedMs: 0, deadlineMs: undefined };
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 && !Number.isInteger(s) ? s.toFixed(1) : Math.round(s)} s`;
}

/** " (asked 5 times over 15 s)" for a call that was retried, "" otherwise. */
export function triesText(call: FailedCall): string {
  return call.attempts > 1 ? ` (asked ${call.attempts} times over ${seconds(call.elapsedMs)})` : '';
}

/** "within 20 s" for a call that hit its deadline. */
export function deadlineText(call: FailedCall): string {
  return call.deadlineMs === undefined ? 'in time' : `within ${seconds(call.deadlineMs)}`;
}
