/**
 * Every Web API call the bot makes outside a request's 3 s window goes through here. The Web API client is
 * built with `rejectRateLimitedCalls` and no retries, because its own handling pauses its whole queue on a
 * 429 (one channel's limit would stall every run); instead this waits out `Retry-After` for that channel or
 * method only, paces chat.postMessage (~1/s per channel) and chat.update (Tier 3, ~50/min) ahead of time,
 * and keeps retrying while Slack is unreachable, so that a Slack outage delays messages but fails nothing.
 * Calls waiting for the same limit go out by priority, never behind an edit that is waiting for its slot.
 * https://docs.slack.dev/apis/web-api/rate-limits
 */
import { ErrorCode, WebClient } from '@slack/web-api';
import { boltLogger, type Log } from '../log.js';
import { withTimeout } from '../with-timeout.js';
import { createLocalPace, type PaceRule, type SlackPace } from './pace.js';

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
  /** Where the slots of Slack's limits come from; shared through Redis between processes in production. */
  pace?: SlackPace | undefined;
  /** chat.update calls per minute across the workspace. @defaultValue 50 */
  updatesPerMinute?: number;
  /** Least time between two chat.postMessage in one channel. @defaultValue 1000 */
  postSpacingMs?: number;
  /** Longest wait between attempts while Slack is down. @defaultValue 30 s */
  maxBackoffMs?: number;
}

/**
 * Who goes first when a channel's posts or the workspace's edits are scarce: what a person is waiting
 * for (a parent message, an approval request) before news (a failure), before the rest (summaries,
 * progress edits of runs still moving).
 */
export const Priority = { urgent: 0, normal: 1, later: 2 } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

export interface SendOptions {
  /** Stop trying after this many ms (answers to a person); default: keep trying until closed. */
  deadlineMs?: number;
  /** @defaultValue Priority.normal; a function is asked again each time the call waits for its turn. */
  priority?: Priority | (() => Priority);
  /**
   * When the work this call belongs to began (ms since the epoch; a run's command): among calls of equal
   * priority the oldest work goes first, so runs already under way move on before new ones are announced.
   * @defaultValue the time of the call
   */
  since?: number;
  /**
   * Awaited once the call's slot is taken, just before its arguments are made (`callLatest`): a chance to
   * fetch the state the message should show. Bounded to half a second; a failure sends what is known.
   */
  beforeSend?: () => Promise<void>;
}

/** How long `beforeSend` may hold a call whose slot is taken. */
const BEFORE_SEND_MS = 500;

export interface SlackSender {
  call(method: string, args: Record<string, unknown>, options?: SendOptions): Promise<CallResult>;
  /**
   * Like `call`, but the arguments are made when the call's turn comes, so an edit that waited sends the
   * latest state; `undefined` from `args` means there is nothing to send any more (resolves undefined).
   */
  callLatest(
    method: string,
    args: () => Record<string, unknown> | undefined,
    options?: SendOptions,
  ): Promise<CallResult | undefined>;
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
  return new WebClient(token, {
    slackApiUrl,
    ...(log === undefined ? {} : { logger: boltLogger(log) }),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
  });
}

interface Ticket {
  method: string;
  args: () => Record<string, unknown> | undefined;
  priority: () => Priority;
  seq: number;
  /** When its work began (ms since the epoch): within a priority, in this process and across processes, the oldest goes first. */
  since: number;
  beforeSend: (() => Promise<void>) | undefined;
  deadline: number;
  backoff: number;
  attempts: number;
  resolve(result: CallResult | undefined): void;
  reject(error: Error): void;
}

/** The calls waiting for one limit (a channel's posts, the workspace's edits), best first. */
interface Lane {
  name: string;
  rule: (priority: Priority) => PaceRule;
  waiting: Ticket[];
  running: boolean;
  /** A claim on the lane's slots is standing in the shared pace. */
  claimed: boolean;
  wake: (() => void) | undefined;
}

export function createSlackSender(options: SlackSenderOptions): SlackSender {
  const { client, log } = options;
  const perMinute = options.updatesPerMinute ?? 50;
  const spacing = options.postSpacingMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const pace = options.pace ?? createLocalPace();
  const lanes = new Map<string, Lane>();
  const live = new Set<Ticket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let seq = 0;

  // Slack counts edits over a sliding minute; two are kept spare for clocks and network jitter, and
  // progress edits may use only part of the minute so that final states and decisions always find room.
  const editRule = (priority: Priority): PaceRule => ({
    kind: 'window',
    limit:
      priority === Priority.later ? Math.max(1, Math.floor(perMinute * 0.6)) : Math.max(1, perMinute - 2),
    windowMs: 60_250,
  });
  const postRule = (): PaceRule => ({ kind: 'spacing', ms: spacing });

  function laneOf(method: string, args: Record<string, unknown> | undefined): Lane | undefined {
    let name: string;
    let rule: Lane['rule'];
    if (method === 'chat.postMessage') {
      name = `post:${String(args?.channel)}`;
      rule = postRule;
    } else if (method === 'chat.update') {
      name = 'update';
      rule = editRule;
    } else return undefined;
    let lane = lanes.get(name);
    if (lane === undefined) {
      lane = { name, rule, waiting: [], running: false, claimed: false, wake: undefined };
      lanes.set(name, lane);
    }
    return lane;
  }

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  function settle(ticket: Ticket, outcome: { result: CallResult | undefined } | { error: Error }): void {
    if (!live.delete(ticket)) return;
    if ('error' in outcome) ticket.reject(outcome.error);
    else ticket.resolve(outcome.result);
  }

  function enqueue(ticket: Ticket): void {
    if (closed) {
      settle(ticket, { error: new SlackUnavailableError(ticket.method, new Error('closed')) });
      return;
    }
    const lane = laneOf(ticket.method, ticket.args());
    if (lane === undefined) {
      void attempt(ticket, undefined);
      return;
    }
    lane.waiting.push(ticket);
    if (lane.running) lane.wake?.();
    else void drain(lane);
  }

  function best(lane: Lane): Ticket | undefined {
    let found: { ticket: Ticket; priority: Priority } | undefined;
    for (const ticket of lane.waiting) {
      const priority = ticket.priority();
      if (
        found === undefined ||
        priority < found.priority ||
        (priority === found.priority &&
          (ticket.since < found.ticket.since ||
            (ticket.since === found.ticket.since && ticket.seq < found.ticket.seq)))
      )
        found = { ticket, priority };
    }
    return found?.ticket;
  }

  /** Hands out the lane's slots, best waiting call first, until nothing waits. */
  async function drain(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (!closed) {
        lane.waiting = lane.waiting.filter((ticket) => live.has(ticket));
        const ticket = best(lane);
        if (ticket === undefined) return;
        const args = ticket.args();
        if (args === undefined) {
          lane.waiting.splice(lane.waiting.indexOf(ticket), 1);
          settle(ticket, { result: undefined });
          continue;
        }
        const priority = ticket.priority();
        lane.claimed = true;
        const wait = await pace.take(lane.name, lane.rule(priority), { priority, since: ticket.since });
        if (wait > 0) {
          // A better call arriving meanwhile wakes the lane to reconsider.
          await new Promise<void>((resolve) => {
            lane.wake = resolve;
            later(Math.min(wait, 1000), resolve);
          });
          lane.wake = undefined;
          continue;
        }
        lane.waiting.splice(lane.waiting.indexOf(ticket), 1);
        // The slot is taken: the call goes out now; the lane moves on without waiting for the answer.
        void attempt(ticket, lane);
      }
    } finally {
      lane.running = false;
      if (lane.claimed && lane.waiting.length === 0) {
        lane.claimed = false;
        void pace.leave(lane.name);
      }
      // One lane a channel: a channel with nothing waiting keeps none (a retried call makes it again).
      if (lane.waiting.length === 0) lanes.delete(lane.name);
    }
  }

  async function attempt(ticket: Ticket, lane: Lane | undefined): Promise<void> {
    if (!live.has(ticket)) return;
    if (ticket.beforeSend !== undefined) {
      await withTimeout(ticket.beforeSend(), BEFORE_SEND_MS, () => new Error('too slow')).catch(
        () => undefined,
      );
      if (!live.has(ticket)) return;
    }
    // Made again now: what the call should say may have changed while it waited, or become nothing.
    const args = ticket.args();
    if (args === undefined) return settle(ticket, { result: undefined });
    ticket.attempts += 1;
    try {
      options.observer?.call(ticket.method);
      const result = (await client.apiCall(ticket.method, args)) as unknown as CallResult;
      settle(ticket, { result });
    } catch (error) {
      const wait = retryDelay(error, ticket.backoff);
      if (wait === undefined) return settle(ticket, { error: refusal(ticket.method, error) });
      if (ticket.attempts === 1 || ticket.attempts % 10 === 0) {
        log.warn(
          { method: ticket.method, attempt: ticket.attempts, waitMs: wait, reason: describe(error) },
          'Slack call failed, trying again',
        );
      }
      if (Date.now() + wait > ticket.deadline) {
        return settle(ticket, {
          error: new SlackUnavailableError(ticket.method, new Error('deadline passed')),
        });
      }
      if (isRateLimited(error)) {
        options.observer?.rateLimited(ticket.method);
        // Only this channel (or the edits) wait; the call keeps its place at the front of its lane.
        if (lane !== undefined) {
          await pace.block(lane.name, wait);
          return enqueue(ticket);
        }
        return later(wait, () => void attempt(ticket, undefined));
      }
      ticket.backoff = Math.min(ticket.backoff * 2, maxBackoff);
      later(wait, () => (lane === undefined ? void attempt(ticket, undefined) : enqueue(ticket)));
    }
  }

  function submit(
    method: string,
    args: () => Record<string, unknown> | undefined,
    send: SendOptions,
  ): Promise<CallResult | undefined> {
    return new Promise((resolve, reject) => {
      const priority = send.priority ?? Priority.normal;
      const ticket: Ticket = {
        method,
        args,
        priority: typeof priority === 'function' ? priority : () => priority,
        seq: seq++,
        since: send.since ?? Date.now(),
        beforeSend: send.beforeSend,
        deadline: send.deadlineMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + send.deadlineMs,
        backoff: 1000,
        attempts: 0,
        resolve,
        reject,
      };
      live.add(ticket);
      if (send.deadlineMs !== undefined) {
        later(send.deadlineMs, () =>
          settle(ticket, { error: new SlackUnavailableError(method, new Error('deadline passed')) }),
        );
      }
      enqueue(ticket);
    });
  }

  return {
    async call(method, args, send = {}) {
      return (await submit(method, () => args, send)) as CallResult;
    },
    callLatest: (method, args, send = {}) => submit(method, args, send),
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const ticket of [...live])
        settle(ticket, { error: new SlackUnavailableError(ticket.method, new Error('closed')) });
      for (const lane of lanes.values()) lane.wake?.();
    },
  };
}

function isRateLimited(error: unknown): error is { retryAfter: number } {
  return (error as { code?: string }).code === ErrorCode.RateLimitedError;
}

/** How long to wait before trying again, or undefined when another attempt cannot help. */
function retryDelay(error: unknown, backoff: number): number | undefined {
  if (isRateLimited(error)) return Math.max(1, error.retryAfter) * 1000;
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.RequestError || code === ErrorCode.HTTPError) return backoff;
  if (code === ErrorCode.PlatformError) {
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
