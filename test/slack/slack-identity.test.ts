/**
 * How often /readyz makes the bot ask Slack whether it accepts its token: a success is trusted for a while,
 * and a failure is asked again after a pause that doubles while Slack keeps failing, so that a load
 * balancer probing every second never turns an outage into a call a second.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLog } from '../../src/log.js';
import { createSlackIdentity } from '../../src/slack/health/slack-identity.js';
import { type SlackCalls, SlackUnavailableError } from '../../src/slack/web-api.js';

beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

/** Slack's auth.test as a list of answers, one per call: true accepts, false does not answer. */
function slack(answers: boolean[]) {
  let calls = 0;
  const fake: SlackCalls = {
    async call() {
      const ok = answers[calls++] ?? true;
      if (!ok) throw new SlackUnavailableError('auth.test', new Error('ECONNREFUSED'));
      return { ok: true, user_id: 'U0BOT', team: 'Acme' };
    },
    once: async () => ({}),
    uploadFile: async () => undefined,
  };
  return { fake, calls: () => calls };
}

describe('the bot token check behind /readyz', () => {
  it('asks again after a pause that doubles while Slack fails, and trusts a success for a while', async () => {
    const s = slack([false, false, false, true]);
    const identity = createSlackIdentity({
      calls: s.fake,
      log: silentLog,
      retryMs: 1000,
      maxRetryMs: 3000,
      trustMs: 60_000,
    });
    const probeAt = async (ms: number) => {
      vi.setSystemTime(ms);
      return identity.check();
    };
    expect((await probeAt(0)).ok).toBe(false);
    expect((await probeAt(999)).ok).toBe(false);
    expect(s.calls()).toBe(1);
    await probeAt(1000);
    expect(s.calls()).toBe(2);
    // The second failure in a row: the next question waits 2 s, not 1.
    await probeAt(2500);
    expect(s.calls()).toBe(2);
    await probeAt(3000);
    expect(s.calls()).toBe(3);
    // Capped: 3 s, not 4.
    await probeAt(5999);
    expect(s.calls()).toBe(3);
    expect((await probeAt(6000)).ok).toBe(true);
    expect(s.calls()).toBe(4);
    // A success is trusted: probes within the minute ask Slack nothing.
    expect(await probeAt(65_000)).toMatchObject({ ok: true, detail: 'ok (U0BOT in Acme)' });
    expect(s.calls()).toBe(4);
  });
});
