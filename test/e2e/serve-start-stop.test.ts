/**
 * Starting and stopping the real process: `node bin/gitspaces-bot.js serve` (and `npm start`) with nothing
 * but its environment. A bot that cannot start says why in one line and exits non-zero; SIGTERM ends it
 * within 15 s at any time, start-up included; with Slack unreachable it says so (not "check the token") and
 * backs off; `npm start` stopped or killed takes the bot with it.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, buildBot, exitWithin, startBot } from '../support/bot-process.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from '../support/fake-socket-mode.js';

const BOT_TOKEN = 'xoxb-start-stop-test';
const APP_TOKEN = 'xapp-1-A0GITSPACES-start-stop';

let build: Awaited<ReturnType<typeof buildBot>>;
let slack: FakeSlack;
let socket: FakeSocketMode;
/** Accepts connections and never answers (a hung proxy). */
let silent: Server;
const silentSockets: Socket[] = [];
/** A loopback port nothing listens on: "no network" without leaving the machine. */
let closedPort: number;
const bots: BotProcess[] = [];

async function freePort(): Promise<number> {
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  const { port } = spare.address() as AddressInfo;
  await new Promise((resolve) => spare.close(resolve));
  return port;
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: 'start-stop-signing-secret',
    SLACK_API_URL: slack.url,
    PORT: '0',
    QUEUE_PREFIX: `t-ss-${process.pid}-${Date.now() % 1e8}`,
    APPROVERS: 'U0APPROVER',
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    GCP_PROJECT: 'acme-gitspaces',
    GCP_ZONE: 'us-central1-a',
    POOL_SECRET: 'env:POOL',
    DELEGATE_TOKEN_SECRET: 'env:TOKEN',
    SSH_KEY_SECRET: 'env:KEY',
    ...extra,
  };
}

function start(extra: NodeJS.ProcessEnv = {}, command?: [string, ...string[]]): BotProcess {
  const bot = startBot(build.dir, env(extra), command);
  bots.push(bot);
  return bot;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** stderr without blank lines: what a person reads when the bot will not start. */
function stderrLines(bot: BotProcess): string[] {
  return bot
    .stderr()
    .split('\n')
    .filter((l) => l.trim() !== '');
}

beforeAll(async () => {
  [build, slack, closedPort] = await Promise.all([
    buildBot(),
    startFakeSlack({ token: BOT_TOKEN }),
    freePort(),
  ]);
  socket = await startFakeSocketMode(slack, APP_TOKEN);
  silent = createServer((s) => silentSockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
}, 240_000);

afterAll(async () => {
  for (const bot of bots) if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  await socket?.close();
  await slack?.close();
});

describe('a bot that cannot start', () => {
  it('exits non-zero naming SLACK_APP_TOKEN and the fix when Slack refuses the app token', async () => {
    const bot = start({ SLACK_APP_TOKEN: 'xapp-1-A0GITSPACES-revoked' });
    expect(await exitWithin(bot, 20_000)).toBe(1);
    const lines = stderrLines(bot);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Slack refused SLACK_APP_TOKEN (invalid_auth)');
    expect(lines[0]).toContain('connections:write');
    expect(bot.output()).not.toContain('xapp-1-A0GITSPACES-revoked');
  }, 30_000);

  it('exits non-zero when SLACK_APP_TOKEN holds the bot token', async () => {
    const bot = start({ SLACK_APP_TOKEN: BOT_TOKEN });
    expect(await exitWithin(bot, 20_000)).toBe(1);
    expect(stderrLines(bot)).toEqual([expect.stringContaining('SLACK_APP_TOKEN (not_allowed_token_type)')]);
  }, 30_000);

  it('names the port and PORT when the port is taken, without a stack', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const bot = start({ PORT: String(port) });
      expect(await exitWithin(bot, 20_000)).toBe(1);
      const lines = stderrLines(bot);
      expect(lines).toEqual([expect.stringContaining(`PORT ${port} is already in use`)]);
      expect(bot.output()).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 30_000);

  it('says Redis does not answer when it refuses connections', async () => {
    const bot = start({ REDIS_URL: `redis://127.0.0.1:${closedPort}` });
    expect(await exitWithin(bot, 20_000)).toBe(1);
    const lines = stderrLines(bot);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Redis/);
    expect(lines[0]).toContain(String(closedPort));
  }, 30_000);
});

describe('stopping', () => {
  it('stops on the first SIGTERM during start-up, exit 0 within 15 s', async () => {
    const before = silentSockets.length;
    const bot = start({
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/`,
    });
    // apps.connections.open is under way (and will never be answered): the bot is still starting.
    const end = Date.now() + 20_000;
    while (silentSockets.length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(bot.output()).not.toContain('Slack app listening');
    const signalled = Date.now();
    bot.child.kill('SIGTERM');
    expect(await exitWithin(bot, 15_000)).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    expect(bot.output()).toContain('stopping during start-up');
  }, 40_000);

  it('with Slack unreachable, blames the network rather than the token, backs off, and stops on SIGTERM', async () => {
    const bot = start({ SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: `http://127.0.0.1:${closedPort}/api/` });
    const port = await bot.waitFor(/"port":(\d+),"mode":"socket"/, 30_000);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { slack: string; socket: string };
    expect(body.slack).toContain('cannot be reached');
    expect(body.slack).not.toContain('SLACK_BOT_TOKEN');
    expect(body.socket).toContain('cannot reach');
    await new Promise((r) => setTimeout(r, 8000));
    const out = bot.output();
    expect(out).toContain("Slack's Web API at http://127.0.0.1");
    expect(out).not.toMatch(/check SLACK_BOT_TOKEN/);
    // Tries at 0, 1, 3 and 7 s: a handful in 8 s, not one every second.
    const attempts = out.split('\n').filter((l) => l.includes('Socket Mode: cannot reach Slack')).length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(5);
    bot.child.kill('SIGTERM');
    expect(await exitWithin(bot, 15_000)).toBe(0);
  }, 60_000);

  it('stops when npm start is sent SIGTERM (npm passes it on to the bot)', async () => {
    const npm = start({ npm_config_update_notifier: 'false' }, ['npm', 'start']);
    const pid = Number(await npm.waitFor(/"pid":(\d+),[^\n]*"msg":"serve started"/, 60_000));
    expect(pid).not.toBe(npm.child.pid);
    npm.child.kill('SIGTERM');
    expect(await gone(pid, 15_000)).toBe(true);
    await exitWithin(npm, 5000);
    expect(npm.output()).toContain('"msg":"stopped"');
  }, 90_000);

  it('stops when npm start is killed outright (the bot notices its parent is gone)', async () => {
    const npm = start({ npm_config_update_notifier: 'false' }, ['npm', 'start']);
    const pid = Number(await npm.waitFor(/"pid":(\d+),[^\n]*"msg":"serve started"/, 60_000));
    npm.child.kill('SIGKILL');
    expect(await gone(pid, 15_000)).toBe(true);
    // The bot kept the output pipe npm shared with it: its last lines say why it stopped.
    expect(npm.output()).toContain('the process that started this one is gone');
  }, 90_000);
});
