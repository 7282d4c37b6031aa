/**
 * The Socket Mode connection against the local Socket Mode server, in-process: it backs off while Slack
 * fails, says a refused token is the app token's fault, and once stopped opens nothing again, whether it
 * was connected or waiting to retry.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../src/log.js';
import { boltLogger } from '../../src/slack/log.js';
import { createSocketConnection, type SocketConnection } from '../../src/slack/socket/socket-connection.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from '../support/fake-socket-mode.js';

const APP_TOKEN = 'xapp-1-A0GITSPACES-unit';
let slack: FakeSlack;
let socket: FakeSocketMode;
let connection: SocketConnection | undefined;

beforeAll(async () => {
  slack = await startFakeSlack({ token: 'xoxb-unit' });
  socket = await startFakeSocketMode(slack, APP_TOKEN);
});
afterEach(async () => {
  await connection?.stop();
  connection = undefined;
});
afterAll(async () => {
  await socket?.close();
  await slack?.close();
});

function connect(appToken = APP_TOKEN): SocketConnection {
  connection = createSocketConnection({
    appToken,
    apiUrl: slack.url,
    logger: boltLogger(silentLog),
    log: silentLog,
    firstBackoffMs: 200,
    maxBackoffMs: 400,
  });
  return connection;
}

/** Every apps.connections.open that reached the Web API, failed ones included. */
const opened = () => slack.callsTo('apps.connections.open').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Socket Mode connection', () => {
  it('connects through SLACK_API_URL and reports itself connected', async () => {
    const c = connect();
    await c.start();
    expect(c.state()).toEqual({ ok: true, detail: 'ok (socket connected)' });
    expect(socket.openSockets).toBe(1);
  });

  it('rejects a refused app token with a message naming SLACK_APP_TOKEN, and does not retry', async () => {
    const c = connect('xapp-1-wrong');
    const opens = opened();
    await expect(c.start()).rejects.toThrow(/Slack refused SLACK_APP_TOKEN \(invalid_auth\).*xapp-/);
    await expect(c.failed).rejects.toThrow(/SLACK_APP_TOKEN/);
    await sleep(600);
    expect(opened()).toBe(opens + 1);
    expect(c.state().ok).toBe(false);
  });

  it('keeps trying while Slack fails, spacing the tries, and connects once it answers', async () => {
    slack.fail('apps.connections.open', { status: 500 }, 3);
    const opens = opened();
    const c = connect();
    await c.start();
    expect(c.state()).toMatchObject({ ok: false, detail: expect.stringContaining('HTTP 500') });
    await sleep(300);
    // 0, 200, 600 ms: not yet the fourth try.
    expect(opened() - opens).toBeLessThanOrEqual(2);
    const end = Date.now() + 5000;
    while (!c.state().ok && Date.now() < end) await sleep(50);
    expect(c.state().ok).toBe(true);
    expect(opened() - opens).toBe(4);
  });

  it('opens nothing after stop, neither when it was connected nor while waiting to retry', async () => {
    const c = connect();
    await c.start();
    await c.stop();
    const opens = opened();
    socket.drop();
    slack.fail('apps.connections.open', { status: 500 }, 100);
    const waiting = connect();
    await waiting.start();
    await waiting.stop();
    const afterStop = opened();
    await sleep(1200);
    expect(afterStop).toBe(opens + 1);
    expect(opened()).toBe(afterStop);
    expect(socket.openSockets).toBe(0);
    expect(waiting.state()).toEqual({ ok: false, detail: 'stopped' });
  });
});
