/**
 * `GET /healthz` (the process answers), `GET /readyz` (Redis answers, Slack accepted the token and, in Socket
 * Mode, the socket is connected: only then should a load balancer send Slack's requests here) and, when given,
 * `GET /metrics`, on the app's one HTTP server (beside `POST /slack/events` in HTTP mode).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { MetricsSource } from '../app-context.js';
import type { SlackIdentity } from './slack-identity.js';

export interface HealthOptions {
  redis: Redis | undefined;
  identity: SlackIdentity;
  metrics: MetricsSource | undefined;
  /** Socket Mode only: whether the socket is connected (Slack sends nothing to an app without one). */
  socket?: () => { ok: boolean; detail: string };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body));
}

async function redisState(redis: Redis | undefined): Promise<{ ok: boolean; detail: string }> {
  if (redis === undefined) return { ok: false, detail: 'no Redis connection configured' };
  try {
    if (redis.status === 'wait') await redis.connect();
    let timer: NodeJS.Timeout | undefined;
    const pong = await Promise.race([
      redis.ping(),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), 1000);
      }),
    ]).finally(() => clearTimeout(timer));
    return pong === 'PONG' ? { ok: true, detail: 'ok' } : { ok: false, detail: 'no answer within 1s' };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

function healthHandlers(options: HealthOptions): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  handlers.set('/healthz', (_req, res) => json(res, 200, { status: 'ok' }));
  handlers.set('/readyz', (_req, res) => {
    void Promise.all([redisState(options.redis), options.identity.check()]).then(([redis, slack]) => {
      const socket = options.socket?.();
      const ready = redis.ok && slack.ok && (socket?.ok ?? true);
      json(res, ready ? 200 : 503, {
        status: ready ? 'ready' : 'not ready',
        redis: redis.detail,
        slack: slack.detail,
        ...(socket === undefined ? {} : { socket: socket.detail }),
      });
    });
  });
  const { metrics } = options;
  if (metrics !== undefined) {
    handlers.set('/metrics', (_req, res) => {
      void metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
  }
  return handlers;
}

/**
 * The request target's path, cut at `?`. Not `new URL()`: it throws on a target such as `//`, and a throw in
 * a request listener would end the process.
 */
export const requestPath = (req: IncomingMessage): string => (req.url ?? '').split('?')[0] ?? '';

/** The routes on a plain request listener; anything else is 404. */
export function healthListener(options: HealthOptions): Handler {
  const handlers = healthHandlers(options);
  return (req, res) => {
    const handler = req.method === 'GET' ? handlers.get(requestPath(req)) : undefined;
    if (handler === undefined) json(res, 404, { status: 'not found' });
    else handler(req, res);
  };
}
