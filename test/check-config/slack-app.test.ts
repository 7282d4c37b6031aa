/**
 * `check-config` with SLACK_APP_TOKEN (Socket Mode): Slack's apps.connections.open must accept the token,
 * checked without opening a socket; and the summary line counts the rows the table shows.
 */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check-config.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from '../support/fake-socket-mode.js';

const BOT_TOKEN = 'xoxb-check-app-token';
const APP_TOKEN = 'xapp-1-A0GITSPACES-check';
const ROW = 'SLACK_APP_TOKEN (Socket Mode)';

let slack: FakeSlack;
let socket: FakeSocketMode;
let closedPort: number;

beforeAll(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  socket = await startFakeSocketMode(slack, APP_TOKEN);
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});
afterAll(async () => {
  await socket?.close();
  await slack?.close();
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.url,
    APPROVERS: 'U0APPROVER',
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    POOL_SECRET: 'env:POOL',
    DELEGATE_TOKEN_SECRET: 'env:TOKEN',
    SSH_KEY_SECRET: 'env:KEY',
    POOL: 'version: "1"\ninstances: []\n',
    TOKEN: 'delegate-token',
    KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n-----END OPENSSH PRIVATE KEY-----\n',
    ...extra,
  };
}

/** Each table row as [check, status, detail + fix], wrapped lines joined. */
function rows(table: string): string[][] {
  const lines = table.split('\n');
  const header = lines[0] ?? '';
  const starts = ['CHECK', 'STATUS', 'DETAIL', 'FIX'].map((h) => header.indexOf(h));
  const cells = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
  const out: string[][][] = [];
  for (const line of lines.slice(2)) {
    if (line === '') break;
    if (cells(line)[1] !== '') out.push([]);
    out.at(-1)?.push(cells(line));
  }
  return out.map((row) =>
    [0, 1, 2, 3].map((i) =>
      row
        .map((c) => c[i])
        .filter(Boolean)
        .join(' '),
    ),
  );
}

async function run(e: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const out: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  const code = await checkConfig(
    e,
    [],
    { stdout, stderr: new PassThrough() },
    { dotEnv: false, timeoutMs: 2000 },
  );
  const text = out.join('');
  const table = rows(text);
  const row = (check: string) => table.find((r) => r[0] === check);
  return { code, text, table, row, app: row(ROW) };
}

describe('check-config and SLACK_APP_TOKEN', () => {
  it('passes a token Slack accepts, without opening a socket', async () => {
    const r = await run(env());
    expect(r.app?.[1]).toBe('ok');
    expect(r.app?.[2]).toContain('Socket Mode can connect');
    expect(socket.connections).toBe(0);
    expect(r.text).not.toContain(APP_TOKEN);
  });

  it('fails a bot token put in SLACK_APP_TOKEN, without asking Slack', async () => {
    const opens = socket.opens;
    const r = await run(env({ SLACK_APP_TOKEN: BOT_TOKEN }));
    expect(r.code).toBe(1);
    expect(r.app?.[1]).toBe('FAIL');
    expect(r.app?.[2]).toContain('holds a bot token (xoxb-…), not an app-level token (xapp-…)');
    expect(r.app?.[3]).toContain('connections:write');
    expect(socket.opens).toBe(opens);
    expect(r.text).not.toContain(BOT_TOKEN);
  });

  it('fails a token Slack refuses, and says how to make one', async () => {
    const r = await run(env({ SLACK_APP_TOKEN: 'xapp-1-A0GITSPACES-revoked' }));
    expect(r.code).toBe(1);
    expect(r.app?.[2]).toContain('Slack refused SLACK_APP_TOKEN (invalid_auth)');
    expect(r.app?.[3]).toContain('App-Level Tokens');
  });

  it('says Slack cannot be reached rather than blaming the token', async () => {
    const r = await run(env({ SLACK_API_URL: `http://127.0.0.1:${closedPort}/api/` }));
    expect(r.app?.[1]).toBe('FAIL');
    expect(r.app?.[2]).toContain('cannot be reached (ECONNREFUSED)');
  });

  it('shows no such row in HTTP mode', async () => {
    const r = await run(env({ SLACK_APP_TOKEN: undefined, SLACK_SIGNING_SECRET: 'secret' }));
    expect(r.app).toBeUndefined();
    expect(r.code).toBe(0);
  });
});

describe('the check-config summary', () => {
  it('counts the rows it shows, failed, passed and skipped', async () => {
    // Nothing set but Redis: many failing settings, and the checks they hold back are skipped.
    const r = await run({});
    const failed = r.table.filter((row) => row[1] === 'FAIL').length;
    const skipped = r.table.filter((row) => row[1] === 'skip').length;
    expect(skipped).toBeGreaterThan(0);
    const passed = r.table.length - failed - skipped;
    expect(r.text).toContain(`${failed} of ${r.table.length} checks failed: fix the FAIL rows`);
    expect(r.text).toContain(`again (${passed} passed, ${skipped} skipped).`);
  });
});
