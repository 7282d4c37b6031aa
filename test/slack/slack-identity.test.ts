/**
 * How often /readyz makes the bot ask Slack whether it accepts its token: a success is trusted for a while,
 * and a failure is asked again after a pause that doubles while Slack keeps refusing, so that a load
 * balancer probing every second never turns an outage into a call a second. The calls go over HTTP to the
 * fake Web API, which counts them; only the clock is faked.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLog } from '../../src/log.js';
import { createSlackIdentity } from '../../src/slack/health/slack-identity.js';
import { createSlackCalls } from '../../src/slack/web-api.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';

let slack: FakeSlack;
beforeEach(async () => {
  slack = await startFakeSlack();
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(async () => {
  vi.useRealTimers();
  await slack.close();
});

describe('the bot token check behind /readyz', () => {
  it('asks again after a pause that doubles while Slack refuses, and trusts a success for a while', async () => {
    slack.fail('auth.test', { error: 'invalid_auth' }, 3);
    const identity = createSlackIdentity({
      calls: createSlackCalls({ token: 'xoxb-test-token', apiUrl: slack.url }),
      log: silentLog,
      apiUrl: slack.url,
      retryMs: 1000,
      maxRetryMs: 3000,
      trustMs: 60_000,
    });
    const asked = () => slack.callsTo('auth.test').length;
    const probeAt = async (ms: number) => {
      vi.setSystemTime(ms);
      return identity.check();
    };
    expect(await probeAt(0)).toMatchObject({ ok: false, detail: expect.stringContaining('invalid_auth') });
    expect((await probeAt(999)).ok).toBe(false);
    expect(asked()).toBe(1);
    await probeAt(1000);
    expect(asked()).toBe(2);
    // The second failure in a row: the next question waits 2 s, not 1.
    await probeAt(2500);
    expect(asked()).toBe(2);
    await probeAt(3000);
    expect(asked()).toBe(3);
    // Capped: 3 s, not 4.
    await probeAt(5999);
    expect(asked()).toBe(3);
    expect((await probeAt(6000)).ok).toBe(true);
    expect(asked()).toBe(4);
    // A success is trusted: probes within the minute ask Slack nothing.
    expect(await probeAt(65_000)).toMatchObject({ ok: true, detail: 'ok (UBOT in Fake)' });
    expect(asked()).toBe(4);
  });

  it('says once, in the log and /readyz, which scopes a token of an app installed from an older manifest lacks', async () => {
    slack.scopes = ['commands', 'chat:write', 'chat:write.public', 'usergroups:read'];
    const warned: string[] = [];
    const log = { ...silentLog, warn: (_: object, message?: string) => void warned.push(message ?? '') };
    const identity = createSlackIdentity({
      calls: createSlackCalls({ token: 'xoxb-test-token', apiUrl: slack.url }),
      log,
      trustMs: 0,
    });
    const first = await identity.check();
    await identity.check();
    // The token works: the bot is ready, and what needs the scope fails when it is used.
    expect(first).toMatchObject({
      ok: true,
      detail: 'ok (UBOT in Fake; lacks files:write (/gitspaces logs sharing a long log as a file))',
    });
    expect(slack.callsTo('auth.test')).toHaveLength(2);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('The bot token lacks files:write');
    expect(warned[0]).toContain('Reinstall');
  });
});
