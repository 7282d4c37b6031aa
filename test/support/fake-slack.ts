/**
 * A stand-in for Slack's Web API on a loopback port: answers the methods the bot calls as Slack does (including
 * `{ok:false, error}` for bad arguments), keeps the messages so tests can read what a user would see, records
 * every call, and fails on demand (429 with Retry-After, 500, Slack down). Point SLACK_API_URL at `url`.
 */

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { parseArgs, readBody } from './fake-slack-body.js';
import { blocksProblems, homeViewProblems, viewProblems } from './fake-slack-checks.js';
import { FakeSlackFiles } from './fake-slack-files.js';

type Json = Record<string, unknown>;

export interface RecordedCall {
  method: string;
  args: Json;
  /** HTTP status answered and, for 200s, Slack's `ok`/`error`. */
  status: number;
  ok: boolean;
  error: string | undefined;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  replyBroadcast: boolean;
  text: string;
  blocks: Json[];
  /** How many times chat.update changed it. */
  updates: number;
}

export interface Ephemeral {
  channel: string;
  user: string;
  text: string;
  blocks: Json[];
}

export type Failure = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

export interface FakeSlackOptions {
  token?: string;
  /** user-group id → member ids, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** Enforce Slack's rate limits: chat.postMessage ~1/s per channel, chat.update ~50/min. */
  rateLimits?: boolean;
  /** The bot token's scopes, sent in `x-oauth-scopes` as Slack does; default: those manifest.yml asks for. */
  scopes?: string[];
}

/** The bot scopes of the app as manifest.yml installs it. */
function manifestScopes(): string[] {
  const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
  return manifest.oauth_config.scopes.bot as string[];
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: Ephemeral[] = [];
  /** Bodies posted to response URLs, by response id. */
  readonly responses: Array<{ id: string; body: Json }> = [];
  readonly views: Json[] = [];
  /** Files uploaded (files.getUploadURLExternal, the bytes, files.completeUploadExternal); `shared` once complete. */
  readonly files = new FakeSlackFiles();
  /** Home tabs published with views.publish, in order. */
  readonly homes: Array<{ user: string; view: Json }> = [];
  usergroups: Record<string, string[]>;
  rateLimits: boolean;
  scopes: string[];
  /** While true every call fails with 503 (Slack down). */
  down = false;
  /** Methods answered by another stand-in, which checks its own token (fake-socket-mode: apps.connections.open). */
  readonly extraMethods = new Map<string, (args: Json, authorization: string) => Json>();
  private readonly failures: Array<{ method: string; failure: Failure; times: number }> = [];
  private readonly usedTriggers = new Set<string>();
  private readonly lastPost = new Map<string, number>();
  private readonly updateTimes: number[] = [];
  private nextTs = 1_700_000_000_000_000;
  private server: Server | undefined;
  private port = 0;
  private readonly token: string;

  constructor(options: FakeSlackOptions = {}) {
    this.token = options.token ?? 'xoxb-test-token';
    this.usergroups = options.usergroups ?? {};
    this.rateLimits = options.rateLimits ?? false;
    this.scopes = options.scopes ?? manifestScopes();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The Web API base URL, for SLACK_API_URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A response_url Slack would send with a command or an interaction. */
  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/respond/${id}`;
  }

  /** The next `times` calls of `method` (or `*`) fail this way. */
  fail(method: string, failure: Failure, times = 1): void {
    this.failures.push({ method, failure, times });
  }

  /** Puts a message in a channel as if the bot had posted it earlier (not recorded as a call). */
  seedMessage(channel: string, message: { text: string; blocks: unknown[] }, threadTs?: string): string {
    const ts = this.newTs();
    this.messages.push({
      channel,
      ts,
      threadTs,
      replyBroadcast: false,
      text: message.text,
      blocks: message.blocks as Json[],
      updates: 0,
    });
    return ts;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages posted in `channel` (not in threads, broadcasts included as replies). */
  channelMessages(channel: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === undefined);
  }

  thread(channel: string, ts: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === ts);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Resolves once `check` returns something truthy; rejects with `what` after `timeoutMs`. */
  async waitFor<T>(what: string, check: () => T | undefined | false | null, timeoutMs = 20_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const raw = body.toString('utf8');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith('/upload/'))
      return this.files.receive(path.slice('/upload/'.length), body, req.headers['content-type'], res);
    if (path.startsWith('/respond/')) {
      this.responses.push({ id: path.slice('/respond/'.length), body: JSON.parse(raw || '{}') as Json });
      res.writeHead(200).end('ok');
      return;
    }
    const method = path.replace(/^\/api\//, '');
    const args = parseArgs(raw, req.headers['content-type']);
    const failure = this.takeFailure(method);
    if (this.down) return this.answer(res, method, args, 503, { ok: false, error: 'service_unavailable' });
    if (failure && 'status' in failure && failure.status === 429) {
      return this.answer(res, method, args, 429, { ok: false, error: 'ratelimited' }, failure.retryAfter);
    }
    if (failure && 'status' in failure)
      return this.answer(res, method, args, 500, { ok: false, error: 'internal_error' });
    if (failure && 'error' in failure)
      return this.answer(res, method, args, 200, { ok: false, error: failure.error });
    const auth =
      req.headers.authorization ?? (args.token === undefined ? '' : `Bearer ${String(args.token)}`);
    const extra = this.extraMethods.get(method);
    if (extra !== undefined) return this.answer(res, method, args, 200, extra(args, auth));
    if (auth !== `Bearer ${this.token}`)
      return this.answer(res, method, args, 200, { ok: false, error: 'invalid_auth' });
    const limited = this.rateLimited(method, args);
    if (limited !== undefined)
      return this.answer(res, method, args, 429, { ok: false, error: 'ratelimited' }, limited);
    this.answer(res, method, args, 200, this.dispatch(method, args));
  }

  private takeFailure(method: string): Failure | undefined {
    const index = this.failures.findIndex((f) => f.method === method || f.method === '*');
    const entry = this.failures[index];
    if (entry === undefined) return undefined;
    entry.times -= 1;
    if (entry.times <= 0) this.failures.splice(index, 1);
    return entry.failure;
  }

  /** Seconds to wait when the call breaks Slack's limits, undefined when it may go through. */
  private rateLimited(method: string, args: Json): number | undefined {
    if (!this.rateLimits) return undefined;
    const now = Date.now();
    if (method === 'chat.postMessage') {
      const channel = String(args.channel);
      const last = this.lastPost.get(channel);
      // Slack allows about one a second; a little slack for network jitter.
      if (last !== undefined && now - last < 900) return 1;
      this.lastPost.set(channel, now);
    }
    if (method === 'chat.update') {
      while (this.updateTimes.length > 0 && now - (this.updateTimes[0] as number) > 60_000)
        this.updateTimes.shift();
      if (this.updateTimes.length >= 50)
        return Math.ceil((60_000 - (now - (this.updateTimes[0] as number))) / 1000);
      this.updateTimes.push(now);
    }
    return undefined;
  }

  private answer(
    res: ServerResponse,
    method: string,
    args: Json,
    status: number,
    body: Json,
    retryAfter?: number,
  ): void {
    this.calls.push({ method, args, status, ok: body.ok === true, error: body.error as string | undefined });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-oauth-scopes': this.scopes.join(','),
    };
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  private dispatch(method: string, args: Json): Json {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'gitspaces',
          team_id: 'T0FAKE',
          user_id: 'UBOT',
          bot_id: 'BBOT',
        };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.getPermalink':
        return {
          ok: true,
          channel: args.channel,
          permalink: `https://fake.slack.com/archives/${String(args.channel)}/p${String(args.message_ts).replace('.', '')}`,
        };
      case 'files.getUploadURLExternal':
        return this.files.uploadUrl(args, `http://127.0.0.1:${this.port}/upload/`);
      case 'files.completeUploadExternal':
        return this.files.complete(args);
      case 'views.open':
        return this.openView(args);
      case 'views.publish':
        return this.publishView(args);
      case 'usergroups.users.list': {
        const users = this.usergroups[String(args.usergroup)];
        return users === undefined ? { ok: false, error: 'no_such_subteam' } : { ok: true, users };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private messageProblems(args: Json): Json | undefined {
    if (typeof args.channel !== 'string' || !/^[CGD][A-Z0-9]+$/.test(args.channel))
      return { ok: false, error: 'channel_not_found' };
    const text = typeof args.text === 'string' ? args.text : '';
    if (text === '' && args.blocks === undefined) return { ok: false, error: 'no_text' };
    if (text.length > 40_000) return { ok: false, error: 'msg_too_long' };
    const problems = blocksProblems(args.blocks, 50);
    if (problems.length > 0)
      return { ok: false, error: 'invalid_blocks', response_metadata: { messages: problems } };
    return undefined;
  }

  private postMessage(args: Json): Json {
    const problem = this.messageProblems(args);
    if (problem) return problem;
    const ts = this.newTs();
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    if (threadTs !== undefined && !this.message(String(args.channel), threadTs))
      return { ok: false, error: 'thread_not_found' };
    this.messages.push({
      channel: String(args.channel),
      ts,
      threadTs,
      replyBroadcast: args.reply_broadcast === true || args.reply_broadcast === 'true',
      text: String(args.text ?? ''),
      blocks: (args.blocks as Json[] | undefined) ?? [],
      updates: 0,
    });
    return { ok: true, channel: args.channel, ts, message: { text: args.text, ts } };
  }

  private update(args: Json): Json {
    const problem = this.messageProblems(args);
    if (problem) return problem;
    const message = this.message(String(args.channel), String(args.ts));
    if (!message) return { ok: false, error: 'message_not_found' };
    if (typeof args.text === 'string') message.text = args.text;
    if (args.blocks !== undefined) message.blocks = args.blocks as Json[];
    message.updates += 1;
    return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
  }

  private postEphemeral(args: Json): Json {
    const problem = this.messageProblems(args);
    if (problem) return problem;
    if (typeof args.user !== 'string') return { ok: false, error: 'user_not_in_channel' };
    this.ephemerals.push({
      channel: String(args.channel),
      user: args.user,
      text: String(args.text ?? ''),
      blocks: (args.blocks as Json[] | undefined) ?? [],
    });
    return { ok: true, message_ts: this.newTs() };
  }

  private openView(args: Json): Json {
    const trigger = String(args.trigger_id ?? '');
    if (trigger === '') return { ok: false, error: 'invalid_arguments' };
    if (this.usedTriggers.has(trigger)) return { ok: false, error: 'expired_trigger_id' };
    const problems = viewProblems(args.view);
    if (problems.length > 0)
      return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
    this.usedTriggers.add(trigger);
    const view = { ...(args.view as Json), id: `V${this.views.length + 1}` };
    this.views.push(view);
    return { ok: true, view };
  }

  private publishView(args: Json): Json {
    const user = args.user_id;
    if (typeof user !== 'string' || user === '') return { ok: false, error: 'invalid_arguments' };
    if (!/^[UW][A-Z0-9]+$/.test(user)) return { ok: false, error: 'user_not_found' };
    const problems = homeViewProblems(args.view);
    if (problems.length > 0)
      return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
    const view = { ...(args.view as Json), id: `VHOME${this.homes.length + 1}` };
    this.homes.push({ user, view });
    return { ok: true, view };
  }

  private newTs(): string {
    this.nextTs += 1;
    const text = String(this.nextTs);
    return `${text.slice(0, 10)}.${text.slice(10)}`;
  }
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  return new FakeSlack(options).start();
}
