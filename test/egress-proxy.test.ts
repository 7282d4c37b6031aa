/**
 * Where outbound traffic may leave only through a proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), the bot's own
 * HTTP goes through it: Slack's Web API calls and Socket Mode's socket, checked against a CONNECT proxy that
 * records what it carried, in front of the local Slack stand-ins. (The IAP tunnel through it is in
 * test/cli/iap-tunnel.test.ts.) Without those variables nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { egressProxy } from '../src/egress-proxy.js';
import { silentLog } from '../src/log.js';
import { boltLogger } from '../src/slack/log.js';
import { createSocketConnection } from '../src/slack/socket/socket-connection.js';
import { createSlackCalls } from '../src/slack/web-api.js';
import { type ConnectProxy, startConnectProxy } from './support/connect-proxy.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from './support/fake-socket-mode.js';

const APP_TOKEN = 'xapp-1-A0GITSPACES-proxy';
let proxy: ConnectProxy;
let slack: FakeSlack;
let socket: FakeSocketMode;

beforeAll(async () => {
  proxy = await startConnectProxy();
  slack = await startFakeSlack({ token: 'xoxb-proxy' });
  socket = await startFakeSocketMode(slack, APP_TOKEN);
});
afterAll(async () => {
  await socket?.close();
  await slack?.close();
  await proxy?.close();
});

const hostOf = (url: string) => new URL(url).host;

describe('the egress proxy the environment names', () => {
  it('is none without HTTP_PROXY or HTTPS_PROXY', () => {
    expect(egressProxy({ NO_PROXY: 'example.com' })).toBeUndefined();
  });

  it('carries the Web API calls, and leaves out what NO_PROXY names', async () => {
    const calls = (env: Record<string, string>) =>
      createSlackCalls({ token: 'xoxb-proxy', apiUrl: slack.url, fetch: egressProxy(env)?.fetch });
    const before = proxy.targets.length;
    expect(await calls({ HTTP_PROXY: proxy.url }).once('auth.test', {})).toMatchObject({ ok: true });
    expect(proxy.targets.slice(before)).toEqual([hostOf(slack.url)]);
    await calls({ HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }).once('auth.test', {});
    expect(proxy.targets).toHaveLength(before + 1);
  });

  it('carries Socket Mode: apps.connections.open and the socket it opens', async () => {
    const before = proxy.targets.length;
    const connection = createSocketConnection({
      appToken: APP_TOKEN,
      apiUrl: slack.url,
      logger: boltLogger(silentLog),
      log: silentLog,
      proxy: egressProxy({ http_proxy: proxy.url }),
    });
    try {
      await connection.start();
      expect(connection.state()).toEqual({ ok: true, detail: 'ok (socket connected)' });
      // The Web API, then the socket's own server (the URL apps.connections.open handed out).
      const [api, opened, ...more] = proxy.targets.slice(before);
      expect(api).toBe(hostOf(slack.url));
      expect(opened).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(opened).not.toBe(api);
      expect(more).toEqual([]);
    } finally {
      await connection.stop();
    }
  });

  it('sends a tunnel to a host NO_PROXY names directly, by name, domain or port', () => {
    const env = { HTTPS_PROXY: proxy.url, NO_PROXY: 'internal.example, .corp.example, relay.test:8443' };
    const agentFor = (url: string) => egressProxy({ ...env })?.agentFor(url);
    expect(agentFor('wss://tunnel.cloudproxy.app/v4/connect')).toBeDefined();
    expect(agentFor('wss://internal.example/x')).toBeUndefined();
    expect(agentFor('wss://a.internal.example/x')).toBeUndefined();
    expect(agentFor('wss://b.corp.example/x')).toBeUndefined();
    expect(agentFor('wss://relay.test:8443/x')).toBeUndefined();
    expect(agentFor('wss://relay.test/x')).toBeDefined();
    expect(
      egressProxy({ HTTPS_PROXY: proxy.url, NO_PROXY: '*' })?.agentFor('wss://any.where/'),
    ).toBeUndefined();
    // HTTP_PROXY serves https too when HTTPS_PROXY is not set, as curl reads them.
    expect(egressProxy({ HTTP_PROXY: proxy.url })?.agentFor('wss://tunnel.cloudproxy.app/')).toBeDefined();
  });
});
