/**
 * Socket Mode's connection, kept by us rather than by the client's own reconnect loop: that loop retries
 * `apps.connections.open` about a hundred times a few seconds apart (logging each), keeps going after
 * `disconnect()` once a call is in flight, and never says when the app token itself is refused. Here each
 * attempt is one call with a deadline, failures back off up to a minute, a refused token ends the
 * connection for good with a message naming SLACK_APP_TOKEN, and after `stop()` nothing is opened again.
 * https://docs.slack.dev/apis/events-api/using-socket-mode
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, SocketModeReceiver } from '@slack/bolt';
import type { EgressProxy } from '../../egress-proxy.js';
import type { GitspacesError } from '../../errors.js';
import type { Log } from '../../log.js';
import { backoff } from '../../retry.js';
import { withTimeout } from '../../timeout.js';
import { networkReason, refusedAppToken } from '../token-errors.js';

export interface SocketConnectionOptions {
  appToken: string;
  apiUrl: string;
  logger: Logger;
  log: Log;
  /** Bound of one `apps.connections.open` and of the wait for `hello`. @defaultValue 10 s */
  attemptTimeoutMs?: number;
  /** @defaultValue 1 s */
  firstBackoffMs?: number;
  /** @defaultValue 60 s */
  maxBackoffMs?: number;
  /** The egress proxy (egress-proxy.ts): `apps.connections.open` and the socket itself go through it. */
  proxy?: EgressProxy | undefined;
}

export interface SocketConnection {
  receiver: SocketModeReceiver;
  /** Resolves after the first attempt: connected, or retrying in the background. Rejects on a refused token. */
  start(): Promise<void>;
  /** Rejects once the app token is refused (at start or on any later reconnect); never resolves. */
  failed: Promise<never>;
  /** For /readyz: whether a socket is open and Slack said `hello` on it. */
  state(): { ok: boolean; detail: string };
  stop(): Promise<void>;
}

type Attempt = 'connected' | 'retry' | 'stopped';

/** The SocketModeReceiver for Bolt, its client held to one `apps.connections.open` per attempt, cut by `stopping`. */
function socketReceiver(options: SocketConnectionOptions, attemptMs: number, stopping: AbortSignal) {
  const send = options.proxy?.fetch ?? fetch;
  return new SocketModeReceiver({
    appToken: options.appToken,
    logger: options.logger,
    autoReconnectEnabled: false,
    ...(options.proxy === undefined ? {} : { dispatcher: options.proxy.dispatcher }),
    installerOptions: {
      clientOptions: {
        slackApiUrl: options.apiUrl,
        retryConfig: { retries: 0 },
        timeout: attemptMs,
        // Every call is cut short by stop(), and none is made after it.
        fetch: (url, init) =>
          send(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, stopping]) : stopping }),
      },
    },
  });
}

/** `failed`, rejected once `fail` is called (the app token refused); never resolves, and is never unhandled. */
function refusal(): { failed: Promise<never>; fail: (error: GitspacesError) => void } {
  let fail: (error: GitspacesError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  return { failed, fail };
}

/** Logs an attempt that could not reach Slack, and says so for /readyz; the next try is in `waitMs`. */
function unreachable(log: Log, error: unknown, waitMs: number): string {
  const reason = networkReason(error);
  log.warn(
    { err: reason, retryInMs: waitMs },
    'Socket Mode: cannot reach Slack (not a token problem): check network access to slack.com or SLACK_API_URL; retrying',
  );
  return `cannot reach Slack's Socket Mode (${reason}); retrying in ${Math.round(waitMs / 1000)} s`;
}

export function createSocketConnection(options: SocketConnectionOptions): SocketConnection {
  const attemptMs = options.attemptTimeoutMs ?? 10_000;
  const retryIn = (failures: number) =>
    backoff(failures, options.firstBackoffMs ?? 1000, options.maxBackoffMs ?? 60_000);
  const stopping = new AbortController();
  const receiver = socketReceiver(options, attemptMs, stopping.signal);
  const client = receiver.client;
  let connected = false;
  let detail = 'not connected yet';
  let connecting = false;
  let failures = 0; // in a row since the last connection: the next wait grows with them
  const { failed, fail } = refusal();

  /** One `apps.connections.open` and Slack's `hello`, within `attemptMs`. */
  async function attempt(): Promise<Attempt> {
    try {
      await withTimeout(client.start(), attemptMs, () => new Error(`no hello within ${attemptMs} ms`));
      return 'connected';
    } catch (error) {
      if (stopping.signal.aborted) return 'stopped';
      const refused = refusedAppToken(error);
      if (refused !== undefined) fail(refused);
      detail = refused?.message ?? unreachable(options.log, error, retryIn(++failures));
      if (refused !== undefined) return 'stopped';
      // A socket half-open after a timeout must not linger beside the next one.
      await client.disconnect().catch(() => undefined);
      return 'retry';
    }
  }

  /** Tries again until connected, refused or stopped; the first try after `firstWaitMs`, later ones back off. */
  async function reconnect(firstWaitMs: number): Promise<void> {
    if (connecting) return;
    connecting = true;
    try {
      for (let wait = firstWaitMs; ; wait = retryIn(failures)) {
        if (wait > 0) await sleep(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
        if (stopping.signal.aborted || (await attempt()) !== 'retry') return;
      }
    } finally {
      connecting = false;
    }
  }

  client.on('connected', () => {
    if (stopping.signal.aborted) return void client.disconnect();
    connected = true;
    failures = 0;
    detail = 'ok (socket connected)';
  });
  client.on('disconnected', () => {
    const wasConnected = connected;
    connected = false;
    if (stopping.signal.aborted || connecting) return;
    detail = 'socket closed; reconnecting';
    options.log.info({ wasConnected }, 'Socket Mode connection closed; reconnecting');
    void reconnect(0);
  });

  return {
    receiver,
    failed,
    state: () => ({ ok: connected, detail }),
    async start() {
      connecting = true;
      const first = await attempt(); // never throws: it says how it ended
      connecting = false;
      if (first === 'stopped' && !stopping.signal.aborted) await failed;
      if (first === 'retry') void reconnect(retryIn(failures));
    },
    async stop() {
      stopping.abort();
      connected = false;
      detail = 'stopped';
      await client.disconnect().catch(() => undefined);
    },
  };
}
