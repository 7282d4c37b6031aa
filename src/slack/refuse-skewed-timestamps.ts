/**
 * Refuses signed requests whose timestamp is more than five minutes from now, in either direction. Bolt's
 * verifier refuses only stale ones, so a request signed for the future would be accepted, and replayable
 * until that moment has passed. Slack's rule is a window around now:
 * https://docs.slack.dev/authentication/verifying-requests-from-slack#validating-a-request
 */
import type { IncomingMessage, RequestListener } from 'node:http';

/** Slack's window: requests older or newer than this are refused. */
const MAX_TIMESTAMP_SKEW_SECONDS = 5 * 60;

/** The request's timestamp minus now, in seconds; `undefined` when there is none to judge (Bolt refuses those). */
function timestampSkew(req: IncomingMessage): number | undefined {
  const header = req.headers['x-slack-request-timestamp'];
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim()) - Math.floor(Date.now() / 1000);
}

/** Wraps Bolt's request listener: a request outside the window gets 401 before Bolt reads its body. */
export function refuseSkewedTimestamps(
  next: RequestListener,
  onRefused: (skewSeconds: number) => void,
): RequestListener {
  return (req, res) => {
    const skew = timestampSkew(req);
    if (skew === undefined || Math.abs(skew) <= MAX_TIMESTAMP_SKEW_SECONDS) return next(req, res);
    onRefused(skew);
    req.resume();
    res.writeHead(401).end();
  };
}
