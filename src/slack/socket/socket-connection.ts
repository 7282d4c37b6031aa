/**
 * Socket Mode's connection, kept by us rather than by the client's own reconnect loop: that loop retries
 * `apps.connections.open` about a hundred times a few seconds apart (logging each), keeps going after
 * `disconnect()` once a call is in flight, and never says when the app token itself is refused. Here each
 * attempt is one call with a deadline, failures back off up to a minute, a refused token ends the
 * connection for good with a message naming SLACK_APP_TOKEN, and after `stop()` nothing is opened again.
 * https://docs.slack.dev/apis/events-api/using-socket-mode
 */
import { type Logger, SocketModeReceiver } from '@slack/bolt';
import type { GitspacesError } from '../../errors.js';
import type { Log } from '../../log.js';
import { networkReason, refusedAppToken } from './refused-token.js';

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
  return new SocketModeReceiver({
    appToken: options.appToken,
    logger: options.logger,
    autoReconnectEnabled: false,
    installerOptions: {
      clientOptions: {
        slackApiUrl: options.apiUrl,
        retryConfig: { retries: 0 },
        timeout: attemptMs,
        // Every call is cut short by stop(), and none is made after it.
        fetch: (url, init) =>
          fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, stopping]) : stopping }),
      },
    },
  });
}

class KeptConnection implements SocketConnection {
  readonly receiver: SocketModeReceiver;
  readonly failed: Promise<never>;
  private readonly attemptMs: number;
  private readonly firstBackoff: number;
  private readonly maxBackoff: number;
  private readonly stopping = new AbortController();
  private connected = false;
  private detail = 'not connected yet';
  private connecting = false;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private fail: (error: GitspacesError) => void = () => undefined;

  constructor(private readonly options: SocketConnectionOptions) {
    this.attemptMs = options.attemptTimeoutMs ?? 10_000;
    this.firstBackoff = options.firstBackoffMs ?? 1000;
    this.maxBackoff = options.maxBackoffMs ?? 60_000;
    this.backoff = this.firstBackoff;
    this.receiver = socketReceiver(options, this.attemptMs, this.stopping.signal);
    this.failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => undefined);
    const client = this.receiver.client;
    client.on('connected', () => this.onConnected());
    client.on('disconnected', () => this.onDisconnected());
  }

  state(): { ok: boolean; detail: string } {
    return { ok: this.connected, detail: this.detail };
  }

  async start(): Promise<void> {
    this.connecting = true;
    const first = await this.attempt().finally(() => {
      this.connecting = false;
    });
    if (first === 'stopped' && !this.stopping.signal.aborted) await this.failed;
    if (first === 'retry') void this.reconnect(this.nextBackoff());
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    this.connected = false;
    this.detail = 'stopped';
    await this.receiver.client.disconnect().catch(() => undefined);
  }

  private onConnected(): void {
    if (this.stopping.signal.aborted) return void this.receiver.client.disconnect();
    this.connected = true;
    this.backoff = this.firstBackoff;
    this.detail = 'ok (socket connected)';
  }

  private onDisconnected(): void {
    const wasConnected = this.connected;
    this.connected = false;
    if (this.stopping.signal.aborted || this.connecting) return;
    this.detail = 'socket closed; reconnecting';
    this.options.log.info({ wasConnected }, 'Socket Mode connection closed; reconnecting');
    void this.reconnect(0);
  }

  private nextBackoff(): number {
    const wait = this.backoff;
    this.backoff = Math.min(this.maxBackoff, this.backoff * 2);
    return wait;
  }

  private async attempt(): Promise<Attempt> {
    let hello: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.receiver.client.start(),
        new Promise((_, reject) => {
          hello = setTimeout(() => reject(new Error(`no hello within ${this.attemptMs} ms`)), this.attemptMs);
        }),
      ]);
      return 'connected';
    } catch (error) {
      return await this.failedAttempt(error);
    } finally {
      clearTimeout(hello);
    }
  }

  private async failedAttempt(error: unknown): Promise<Attempt> {
    if (this.stopping.signal.aborted) return 'stopped';
    const refused = refusedAppToken(error);
    if (refused !== undefined) {
      this.detail = refused.message;
      this.fail(refused);
      return 'stopped';
    }
    const reason = networkReason(error);
    this.detail = `cannot reach Slack's Socket Mode (${reason}); retrying in ${Math.round(this.backoff / 1000)} s`;
    this.options.log.warn(
      { err: reason, retryInMs: this.backoff },
      'Socket Mode: cannot reach Slack (not a token problem): check network access to slack.com or SLACK_API_URL; retrying',
    );
    // A socket half-open after a timeout must not linger beside the next one.
    await this.receiver.client.disconnect().catch(() => undefined);
    return 'retry';
  }

  /** Tries again until connected, refused or stopped; the first try waits `firstDelayMs`, later ones back off. */
  private async reconnect(firstDelayMs: number): Promise<void> {
    if (this.connecting) return;
    this.connecting = true;
    try {
      for (let wait = firstDelayMs; ; wait = this.nextBackoff()) {
        if (wait > 0) await this.pause(wait);
        if (this.stopping.signal.aborted) return;
        if ((await this.attempt()) !== 'retry') return;
      }
    } finally {
      this.connecting = false;
    }
  }

  private pause(ms: number): Promise<void> {
    const { signal } = this.stopping;
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

export function createSocketConnection(options: SocketConnectionOptions): SocketConnection {
  return new KeptConnection(options);
}
