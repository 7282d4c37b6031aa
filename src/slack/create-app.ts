/**
 * The Bolt app: HTTP mode (Bolt's HTTPReceiver takes `POST /slack/events` and verifies its signature) or
 * Socket Mode when SLACK_APP_TOKEN is set; the health routes are on the same port in both.
 * Listeners live in one folder per surface; this file only wires them.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, type Logger, type Receiver } from '@slack/bolt';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Config } from '../config.js';
import { egressProxy } from '../egress-proxy.js';
import { GitspacesError } from '../errors.js';
import type { Log } from '../log.js';
import type { RunService } from '../queue/run-service.js';
import { createWatchSchedule, type WatchSchedule } from '../watch/watch-queue.js';
import { createWatchStore, type WatchStore } from '../watch/watch-store.js';
import { createAccessPolicy } from './access/access-policy.js';
import { createUsergroupMembers } from './access/usergroup-members.js';
import { registerActions } from './actions/index.js';
import type { AppContext, LogsVm, MetricsSource, PlanVm, ProbeVm } from './app-context.js';
import { registerCommands } from './commands/index.js';
import type { SlackDelivery } from './delivery/slack-delivery.js';
import { createSlackDelivery } from './delivery/slack-delivery.js';
import { registerEvents } from './events/index.js';
import { healthListener, requestPath } from './health/health-routes.js';
import { createSlackIdentity, type SlackIdentity } from './health/slack-identity.js';
import { boltLogger } from './log.js';
import { refuseSkewedTimestamps } from './refuse-skewed-timestamps.js';
import { createSocketConnection, type SocketConnection } from './socket/socket-connection.js';
import { registerViews } from './views/index.js';
import { createSlackCalls, type SlackCallObserver } from './web-api.js';

export interface SlackAppDeps {
  runService: RunService;
  /** The app's Redis connection, pinged by /readyz, and where runs' Slack messages are queued. */
  redis: Redis;
  log?: Log;
  /** The watch's records; without it they are read over `redis` under QUEUE_PREFIX. */
  watch?: WatchStore;
  /** `/gitspaces status <vm>` probes the VM through this; without it only the last run is shown. */
  probeVm?: ProbeVm;
  /** `/gitspaces plan <vm>` runs through this; without it plans are refused. */
  planVm?: PlanVm;
  /** `/gitspaces logs <vm> …` reads containers' logs through this; without it logs are refused. */
  logsVm?: LogsVm;
  /** Served at GET /metrics when given. */
  metrics?: MetricsSource;
  /** Told of every Web API call and 429 (metrics). */
  slackObserver?: SlackCallObserver;
  /**
   * The process's delivery of runs' messages (`serve` shares one with its worker); without it the app
   * builds its own, which also takes Slack jobs.
   */
  delivery?: SlackDelivery;
}

export interface SlackApp {
  app: App;
  context: AppContext;
  /**
   * Listens on `config.port` (0 picks a free port) and resolves with the port; in Socket Mode once the first
   * connection attempt is over (connected, or retrying in the background). Rejects with one line to show
   * when the app cannot run (port taken, app token refused).
   */
  start(): Promise<{ port: number }>;
  /** Rejects when the app can no longer run (Slack refused SLACK_APP_TOKEN on a reconnect); never resolves. */
  failed: Promise<never>;
  close(): Promise<void>;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined)
    throw new GitspacesError('CONFIG_INVALID', `${name} is missing: set it in the environment or .env.`);
  return value;
}

const EVENTS_PATH = '/slack/events';

/**
 * The app's one HTTP server: the health routes, and in HTTP mode Slack's signed requests, which go to Bolt's
 * HTTP receiver past a refusal of signatures dated outside Slack's five-minute window.
 */
function httpServer(health: RequestListener, receiver: Receiver, log: Log): Server {
  if (!(receiver instanceof HTTPReceiver)) return createServer(health);
  const events = refuseSkewedTimestamps(receiver.requestListener, (skewSeconds) =>
    log.warn({ skewSeconds }, 'refused a request whose signature timestamp is outside the 5-minute window'),
  );
  return createServer((req, res) => {
    (req.method === 'POST' && requestPath(req) === EVENTS_PATH ? events : health)(req, res);
  });
}

/** Bolt's App over `receiver`, with every surface's listeners. */
function boltApp(receiver: Receiver, context: AppContext, botToken: string, logger: Logger): App {
  const { config, log } = context;
  const proxy = egressProxy(config.env);
  const app = new App({
    receiver,
    // Our own authorize: Bolt's default calls auth.test once at start and keeps a failure for ever.
    authorize: async () => ({ botToken }),
    logger,
    convoStore: false,
    ignoreSelf: false,
    // Listener calls (views.open) must finish inside the trigger's 3 s: few, quick retries.
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      // Listener calls, and Bolt's `respond` to response_url, through the egress proxy when one is set.
      ...(proxy === undefined ? {} : { fetch: proxy.fetch }),
      retryConfig: { retries: 1, minTimeout: 200, maxTimeout: 500 },
      timeout: 2500,
    },
  });
  app.error(async (error) => {
    log.error({ err: error.message, code: (error as { code?: string }).code }, 'listener failed');
  });
  registerCommands(app, context);
  registerActions(app, context);
  registerViews(app, context);
  registerEvents(app, context);
  return app;
}

export function createApp(config: Config, deps: SlackAppDeps): SlackApp {
  const log: Log = deps.log ?? pino({ name: 'gitspaces-bot' });
  const botToken = required(config.slack.botToken, 'SLACK_BOT_TOKEN');
  const proxy = egressProxy(config.env);
  const calls = createSlackCalls({
    token: botToken,
    apiUrl: config.slack.apiUrl,
    log,
    observer: deps.slackObserver,
    fetch: proxy?.fetch,
  });
  const access = createAccessPolicy(config, createUsergroupMembers({ calls, log }));
  const delivery =
    deps.delivery ??
    createSlackDelivery(config, {
      redis: deps.redis,
      runs: deps.runService,
      log,
      observer: deps.slackObserver,
    });
  // Created on first use: most processes never forget a VM.
  let schedule: WatchSchedule | undefined;
  const watchSchedule = () => {
    schedule ??= createWatchSchedule(deps.redis, config.queuePrefix, config.watchIntervalMs);
    return schedule;
  };
  const context: AppContext = {
    config,
    runs: deps.runService,
    access,
    calls,
    delivery,
    log,
    probeVm: deps.probeVm,
    planVm: deps.planVm,
    watch: {
      store: deps.watch ?? createWatchStore(deps.redis, config.queuePrefix),
      unschedule: (vm) => watchSchedule().unschedule(vm),
    },
    logsVm: deps.logsVm,
  };
  const identity = createSlackIdentity({ calls, log, apiUrl: config.slack.apiUrl });
  const logger = boltLogger(log);
  const { appToken, apiUrl } = config.slack;
  const socket =
    appToken === undefined ? undefined : createSocketConnection({ appToken, apiUrl, logger, log, proxy });
  const receiver: Receiver =
    socket?.receiver ??
    new HTTPReceiver({
      signingSecret: required(config.slack.signingSecret, 'SLACK_SIGNING_SECRET'),
      endpoints: EVENTS_PATH,
      logger,
    });
  const app = boltApp(receiver, context, botToken, logger);
  const health = healthListener({
    redis: deps.redis,
    identity,
    metrics: deps.metrics,
    ...(socket === undefined ? {} : { socket: () => socket.state() }),
  });
  const server = httpServer(health, receiver, log);
  return {
    app,
    context,
    ...lifecycle({ server, socket, identity, port: config.port }, async () => {
      if (deps.delivery === undefined) await delivery.close();
      await schedule?.close();
    }),
  };
}

interface LifecycleParts {
  server: Server;
  socket: SocketConnection | undefined;
  identity: SlackIdentity;
  port: number;
}

/** Start: the server on `port`, then the socket. Stop: the socket, the server, then `closeRest`. */
function lifecycle(
  { server, socket, identity, port }: LifecycleParts,
  closeRest: () => Promise<void>,
): Pick<SlackApp, 'start' | 'close' | 'failed'> {
  return {
    failed: socket?.failed ?? new Promise<never>(() => undefined),
    async start() {
      void identity.check();
      const listening = await listen(server, port);
      await socket?.start();
      return { port: listening };
    },
    async close() {
      await socket?.stop();
      // Idle connections close at once; requests under way get Slack's 3 s to be answered, then are cut (a
      // client holding a request half-sent would otherwise hold the process for Node's minute).
      if (server.listening) {
        const cut = setTimeout(() => server.closeAllConnections(), 3000);
        await new Promise((resolve) => server.close(resolve));
        clearTimeout(cut);
      }
      await closeRest();
    },
  };
}

/** A port that cannot be listened on, said in terms of the PORT variable (not a raw EADDRINUSE). */
function portProblem(error: unknown, port: number): unknown {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'EADDRINUSE')
    return new GitspacesError(
      'CONFIG_INVALID',
      `PORT ${port} is already in use by another process: stop that process or set PORT to a free port.`,
    );
  if (code === 'EACCES')
    return new GitspacesError(
      'CONFIG_INVALID',
      `PORT ${port} needs privileges this process does not have: set PORT to a port above 1023.`,
    );
  return error;
}

/** Listens on `port` (0 picks a free one) and resolves with the port taken. */
function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(portProblem(error, port)));
    server.listen(port, () => resolve((server.address() as AddressInfo).port));
  });
}
