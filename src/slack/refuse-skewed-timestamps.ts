/**
 * Refuses signed requests whose timestamp is more than five minutes from now, in either direction. Bolt's
 * verifier refuses only stale ones, so a request signed for the future would be accepted, and replayable
 * until that moment has passed. Slack's rule is a window around now:
 * https://docs.slack.dev/authentication/verifying-requests-from-slack#validating-a-request
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** Slack's window: requests older or newer than this are refused. */
export const MAX_TIMESTAMP_SKEW_SECONDS = 5 * 60;

export interface SkewOptions {
  /** The paths Slack posts to (Bolt's `endpoints`). */
  paths: readonly string[];
  /** @defaultValue Date.now */
  now?: () => number;
  /** Told of each refusal (the log). */
  onRefused?: (skewSeconds: number) => void;
}

/** The request's timestamp minus now, in seconds; `undefined` when there is none to judge (Bolt refuses those). */
export function timestampSkew(req: IncomingMessage, nowMs: number): number | undefined {
  const header = req.headers['x-slack-request-timestamp'];
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim()) - Math.floor(nowMs / 1000);
}

/** Wraps Bolt's request listener: a request outside the window gets 401 before Bolt reads its body. */
export function refuseSkewedTimestamps(next: RequestListener, options: SkewOptions): RequestListener {
  const now = options.now ?? Date.now;
  const paths = new Set(options.paths);
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const skew = req.method === 'POST' && paths.has(path) ? timestampSkew(req, now()) : undefined;
    if (skew === undefined || Math.abs(skew) <= MAX_TIMESTAMP_SKEW_SECONDS) {
      next(req, res);
      return;
    }
    options.onRefused?.(skew);
    req.resume();
    res.writeHead(401);
    res.end();
  };
}
