/**
 * The README's quick start: `node bin/gitspaces-bot.js serve` with SLACK_APP_TOKEN set (Socket Mode, no
 * signing secret, no public URL), Slack's Web API and Socket Mode as local stand-ins, Google's APIs and the
 * VM's Docker engine too. Commands and clicks arrive over the socket and must be acked within 3 s; the bot
 * connects again after Slack's `refresh_requested` and after a dropped connection, is ready only while
 * connected, and stops on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, buildBot, exitWithin, startBot } from '../support/bot-process.js';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from '../support/fake-socket-mode.js';
import { getTarget, ODD_TARGETS } from '../support/request-target.js';
import { holdRunnerPort } from '../support/runner-port.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const P = 'acme-gitspaces';
const Z = 'us-central1-a';
const BOT_TOKEN = 'xoxb-socket-test';
const APP_TOKEN = 'xapp-1-A0GITSPACES-socket-test';
const APPROVER = 'U0APPROVER';

let build: Awaited<ReturnType<typeof buildBot>>;
let sshd: TestSshd;
let google: FakeGoogle;
let slack: FakeSlack;
let socket: FakeSocketMode;
let port3000: Awaited<ReturnType<typeof holdRunnerPort>>;
let bot: BotProcess;
let url = '';

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${bot.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readyz(): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

function help() {
  return socket.command({ text: 'help', user: 'U0REQ', responseUrl: slack.responseUrl('help') });
}

beforeAll(async () => {
  [build, sshd, google, slack] = await Promise.all([
    buildBot(),
    startSshd(),
    startFakeGoogle(),
    startFakeSlack({ token: BOT_TOKEN }),
  ]);
  // Test files that run the runner's health check take turns for 127.0.0.1:3000: held last, for least time.
  port3000 = await holdRunnerPort();
  socket = await startFakeSocketMode(slack, APP_TOKEN);
  google
    .addVm(`${P}/${Z}/runner-1`, { internalIp: '127.0.0.1', hostKeys: sshd.hostKeys })
    .addSecret(P, 'pool', TEST_POOL)
    .addSecret(P, 'delegate-token', `${TEST_TOKEN}\n`)
    .addSecret(P, 'ssh-key', sshd.privateKey);
  bot = startBot(build.dir, {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.url,
    PORT: '0',
    QUEUE_PREFIX: `t-sock-${process.pid}-${Date.now() % 1e8}`,
    GCP_PROJECT: P,
    GCP_ZONE: Z,
    COMPUTE_API_URL: google.url,
    SECRET_MANAGER_API_URL: google.url,
    POOL_SECRET: 'pool',
    DELEGATE_TOKEN_SECRET: 'delegate-token',
    SSH_KEY_SECRET: 'ssh-key',
    SSH_USER: sshd.user,
    SSH_PORT: String(sshd.port),
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_DIR: `/tmp/gsb-socket-runner-${process.pid}`,
    APPROVERS: APPROVER,
  });
  const port = await bot.waitFor(/"port":(\d+),"mode":"socket"/, 60_000);
  url = `http://127.0.0.1:${port}`;
}, 240_000);

afterAll(async () => {
  if (bot && bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await socket?.close();
  await port3000?.release();
  await google?.close();
  await slack?.close();
  await sshd?.stop();
});

describe('gitspaces-bot serve in Socket Mode', () => {
  it('opens its socket through SLACK_API_URL and is ready once connected', async () => {
    await socket.waitForConnections(1);
    expect(slack.callsTo('apps.connections.open').length).toBeGreaterThanOrEqual(1);
    const ready = await until('readiness', async () => {
      const r = await readyz();
      return r.status === 200 ? r : undefined;
    });
    expect(ready.body.socket).toContain('connected');
  });

  it('answers 404 on its health port to request targets that are not its paths, and stays ready', async () => {
    for (const target of ODD_TARGETS) expect(await getTarget(url, target), target).toBe(404);
    expect((await readyz()).status).toBe(200);
  });

  it('answers /gitspaces help in its ack, well within 3 s', async () => {
    const ack = await help();
    expect(ack.ms).toBeLessThan(3000);
    expect(JSON.stringify(ack.payload)).toContain('/gitspaces setup');
    expect(ack.payload?.response_type ?? 'ephemeral').toBe('ephemeral');
  });

  it('sets a VM up from a command over the socket, through its parent message and an approval click', async () => {
    const ack = await socket.command({
      text: 'setup runner-1',
      user: 'U0REQ',
      responseUrl: slack.responseUrl('setup'),
    });
    expect(ack.ms).toBeLessThan(3000);
    const parent = await until('the parent message', () =>
      slack.messages.find(
        (m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes('step-preflight'),
      ),
    );
    expect(parent.channel).toBe('C0RUNS');
    const approval = await until(
      'the approval request',
      () => slack.messages.find((m) => JSON.stringify(m.blocks).includes('delegate_approve')),
      60_000,
    );
    const buttons = (
      approval.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>
    ).flatMap((b) => b.elements ?? []);
    const runId = buttons.find((e) => e.action_id === 'delegate_approve')?.value as string;
    const click = await socket.click({
      actionId: 'delegate_approve',
      value: runId,
      user: APPROVER,
      channel: approval.channel,
      message: { ts: approval.ts, text: approval.text, blocks: approval.blocks },
      responseUrl: slack.responseUrl('approve'),
    });
    expect(click.ms).toBeLessThan(3000);
    await until(
      'the run to succeed',
      () => {
        const block = (slack.message(parent.channel, parent.ts)?.blocks ?? []).find(
          (b) => b.block_id === 'step-delegate-health',
        );
        return JSON.stringify(block).includes('done') ? true : undefined;
      },
      90_000,
    );
    const names = Object.values(sshd.dockerState().containers).map((c) => `${c.name}:${c.status}`);
    expect(names.sort()).toEqual(['runner-1-delegate:running', 'vm-runner:running']);
    expect(JSON.stringify(slack.calls) + bot.output()).not.toContain(TEST_TOKEN);
  }, 150_000);

  it('connects again when Slack asks for a refresh, and keeps answering', async () => {
    const before = socket.connections;
    socket.refresh();
    await socket.waitForConnections(before + 1);
    const ack = await help();
    expect(JSON.stringify(ack.payload)).toContain('/gitspaces setup');
  });

  it('connects again after the connection drops, not ready while it cannot', async () => {
    const before = socket.connections;
    // The next two apps.connections.open fail (Slack having trouble): the bot backs off and tries again.
    slack.fail('apps.connections.open', { status: 500 }, 2);
    socket.drop();
    const away = await until('/readyz to say the socket is away', async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    });
    expect(away.body.socket).toMatch(/reconnecting|cannot reach/);
    await socket.waitForConnections(before + 1, 30_000);
    await until('readiness again', async () => ((await readyz()).status === 200 ? true : undefined));
    const ack = await help();
    expect(ack.ms).toBeLessThan(3000);
  }, 45_000);

  it('stops on SIGTERM within 15 s with exit 0, and opens no connection after', async () => {
    const signalled = Date.now();
    bot.child.kill('SIGTERM');
    expect(await exitWithin(bot, 15_000)).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    const opens = slack.callsTo('apps.connections.open').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(slack.callsTo('apps.connections.open').length).toBe(opens);
    expect(bot.output()).toContain('"msg":"stopped"');
  }, 20_000);
});
