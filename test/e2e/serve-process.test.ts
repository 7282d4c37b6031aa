/**
 * The bot as `npm start` runs it: `gitspaces-bot serve` in its own process, configured only through the
 * environment, with Slack's Web API, Google's APIs, the VM's guest agent and its Docker engine as local
 * stand-ins. A setup goes from a signed `/gitspaces setup` on a VM that does not know the bot's key yet to a
 * healthy delegate; SIGTERM then stops the process cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519HostKey, type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { type GuestAgent, startGuestAgent } from '../support/guest-agent.js';
import { holdRunnerPort } from '../support/runner-port.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';
import { sendClick, sendCommand } from '../support/slack-request.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const P = 'acme-gitspaces';
const Z = 'us-central1-a';
const SECRET = 'serve-test-signing-secret';
const BOT_TOKEN = 'xoxb-serve-test';
const APPROVER = 'U0APPROVER';

let sshd: TestSshd;
let agent: GuestAgent;
let google: FakeGoogle;
let slack: FakeSlack;
let port3000: Awaited<ReturnType<typeof holdRunnerPort>>;
let bot: ChildProcess;
let output = '';
let url = '';

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}\n--- bot output ---\n${output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sshd = await startSshd();
  port3000 = await holdRunnerPort();
  google = await startFakeGoogle();
  slack = await startFakeSlack({ token: BOT_TOKEN });
  google
    .addVm(`${P}/${Z}/runner-1`, { internalIp: '127.0.0.1', hostKeys: sshd.hostKeys })
    .addVm(`${P}/${Z}/imposter`, { internalIp: '127.0.0.1', hostKeys: [ed25519HostKey()] })
    .addSecret(P, 'pool', TEST_POOL)
    .addSecret(P, 'delegate-token', `${TEST_TOKEN}\n`)
    .addSecret(P, 'ssh-key', sshd.privateKey);
  // A fresh VM: it knows the bot's key only once the bot has put it in its metadata and the agent applied it.
  writeFileSync(join(sshd.dir, 'authorized_keys'), '');
  agent = startGuestAgent(google, `${P}/${Z}/runner-1`, sshd);
  const env = {
    PATH: process.env.PATH,
    HOME: mkdtempSync(join(tmpdir(), 'gsb-serve-home-')),
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    QUEUE_PREFIX: `test-serve-${process.pid}-${Date.now()}`,
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
    RUNNER_DIR: join(mkdtempSync(join(tmpdir(), 'gsb-serve-')), 'runner'),
    APPROVERS: APPROVER,
  };
  bot = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./src/cli.ts').then(async (m) => { process.exitCode = await m.main(['serve']); })",
    ],
    {
      cwd: join(import.meta.dirname, '../..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  bot.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  bot.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const port = await until(
    'the Slack app to listen',
    () => /"port":(\d+),"mode":"http"/.exec(output)?.[1],
    60_000,
  );
  url = `http://127.0.0.1:${port}`;
}, 420_000);

afterAll(async () => {
  agent?.stop();
  if (bot && bot.exitCode === null) bot.kill('SIGKILL');
  await port3000?.release();
  await google?.close();
  await slack?.close();
  await sshd?.stop();
});

describe('gitspaces-bot serve', () => {
  it('answers /healthz, and /readyz once Redis and Slack answer', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await until(
      'readiness',
      async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined),
      20_000,
    );
  });

  it('sets a fresh VM up from /gitspaces setup, its key let in through metadata, through an approval click to a healthy delegate', async () => {
    const target = { url: `${url}/slack/events`, signingSecret: SECRET };
    const ack = await sendCommand(target, {
      text: 'setup runner-1',
      user: 'U0REQ',
      responseUrl: slack.responseUrl('setup'),
    });
    expect(ack.status).toBe(200);

    const approval = await until('the approval request', () =>
      slack.messages.find((m) => JSON.stringify(m.blocks).includes('delegate_approve')),
    );
    const buttons = (
      approval.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>
    ).flatMap((b) => b.elements ?? []);
    const runId = buttons.find((e) => e.action_id === 'delegate_approve')?.value;
    expect(runId).toBeDefined();
    const click = await sendClick(target, {
      actionId: 'delegate_approve',
      value: runId as string,
      user: APPROVER,
      channel: approval.channel,
      message: { ts: approval.ts, text: approval.text, blocks: approval.blocks },
      responseUrl: slack.responseUrl('approve'),
    });
    expect(click.status).toBe(200);

    const parent = await until(
      'the run to finish',
      () =>
        slack.messages.find(
          (m) =>
            m.threadTs === undefined &&
            /delegate-health/.test(JSON.stringify(m.blocks)) &&
            /succeeded|set up/i.test(JSON.stringify(m.blocks)),
        ),
      90_000,
    );
    const stepBlock = (parent.blocks as Array<{ block_id?: string }>).find(
      (b) => b.block_id === 'step-delegate-health',
    );
    expect(JSON.stringify(stepBlock)).toContain('done');
    // The thread's closing summary says how the bot got in.
    const thread = slack.messages.filter((m) => m.threadTs === parent.ts).map((m) => JSON.stringify(m));
    expect(thread.join('\n')).toContain(`key added to the VM's ssh-keys metadata for ${sshd.user}`);
    expect(google.metadataOf(`${P}/${Z}/runner-1`)['ssh-keys']).toMatch(/ gitspaces-bot$/);
    const names = Object.values(sshd.dockerState().containers).map((c) => `${c.name}:${c.status}`);
    expect(names.sort()).toEqual(['runner-1-delegate:running', 'vm-runner:running']);

    const everything = JSON.stringify(slack.calls) + output + JSON.stringify(sshd.calls());
    expect(everything).not.toContain(TEST_TOKEN);
    expect(everything).not.toContain(Buffer.from(TEST_TOKEN).toString('base64'));
  });

  it('counts runs and Slack calls in /metrics', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/gitspaces_runs_total\{state="succeeded"\} 1/);
    expect(text).toMatch(/gitspaces_slack_api_calls_total\{method="chat.postMessage"\} [1-9]/);
    expect(text).toMatch(/gitspaces_step_duration_seconds_count\{step="runner",outcome="done"\} 1/);
  });

  it('logs JSON lines that carry the run id and step', () => {
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const stepLines = lines.filter((l) => l.step === 'runner');
    expect(stepLines.length).toBeGreaterThan(0);
    expect(stepLines.every((l) => typeof l.runId === 'string' && l.vm === 'runner-1')).toBe(true);
    // Google's clients were loaded as the worker started, not inside the first run.
    const messages = lines.map((l) => l.msg);
    expect(messages.indexOf('Google clients loaded')).toBeGreaterThan(-1);
    expect(messages.indexOf('Google clients loaded')).toBeLessThan(messages.indexOf('serve started'));
  });

  it('stops on SIGTERM and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => bot.once('exit', (code) => resolve(code)));
    bot.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
  });
});
