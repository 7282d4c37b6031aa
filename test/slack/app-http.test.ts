import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerConnection } from '../../src/queue/redis.js';
import { createRunService } from '../../src/queue/run-service.js';
import { createSetupQueue } from '../../src/queue/setup-queue.js';
import { getTarget, ODD_TARGETS } from '../support/request-target.js';
import { type SlackAppHarness, shown, startSlackAppHarness } from '../support/slack-app-harness.js';
import { commandBody, sign } from '../support/slack-request.js';

let h: SlackAppHarness;

beforeAll(async () => {
  h = await startSlackAppHarness();
});
afterAll(async () => h.close());

async function nothingEnqueued(): Promise<void> {
  expect(await h.queue.runs.recent({ limit: 10 })).toEqual([]);
  const counts = await h.queue.queue.getJobCounts();
  expect(Object.values(counts).every((n) => n === 0)).toBe(true);
}

describe('requests to /slack/events', () => {
  it('answers 401 to a forged signature and starts nothing', async () => {
    const response = await h.command('setup vm-1', { sign: { secret: 'not-the-signing-secret' } });
    expect(response.status).toBe(401);
    await nothingEnqueued();
    expect(h.slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('answers 401 to a replayed request older than five minutes and starts nothing', async () => {
    const response = await h.command('setup vm-1', {
      sign: { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    });
    expect(response.status).toBe(401);
    await nothingEnqueued();
  });

  it('answers 401 when the body was changed after signing', async () => {
    const body = commandBody({ text: 'status', responseUrl: h.slack.responseUrl('x') });
    const timestamp = Math.floor(Date.now() / 1000);
    const signed = await fetch(h.target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': sign(h.target.signingSecret, timestamp, body),
      },
      body: body.replace('status', 'setup+vm-1'),
    });
    expect(signed.status).toBe(401);
    await nothingEnqueued();
  });

  it('refuses bad VM names ephemerally, with the usage, and enqueues nothing', async () => {
    const answer = await h.command('setup vm-1 Bad_Name $(reboot)');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(shown(answer.body)).toContain('Bad_Name');
    expect(shown(answer.body)).toContain('/gitspaces setup <vm>');
    await nothingEnqueued();
  });

  it('answers help and unknown commands with the usage, ephemerally', async () => {
    for (const text of ['help', '', 'deploy everything']) {
      const answer = await h.command(text);
      expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
      expect(shown(answer.body)).toContain('/gitspaces status');
    }
  });
});

describe('health', () => {
  it('answers /healthz while the process runs and /readyz when Redis and Slack answer', async () => {
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    expect(h.slack.callsTo('auth.test').length).toBeGreaterThan(0);
  });

  it('answers 404 to request targets that are not its paths, and goes on serving', async () => {
    for (const target of ODD_TARGETS) expect(await getTarget(h.base, target), target).toBe(404);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });
});

describe('stopping', () => {
  it('does not wait on a client that holds a request half-sent', async () => {
    const other = await startSlackAppHarness();
    const { hostname, port } = new URL(other.base);
    const held = connect({ host: hostname, port: Number(port) });
    await once(held, 'connect');
    // Headers begun, never finished: Node itself would wait a minute for the rest.
    held.write('POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 100\r\n\r\npayload=');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cut = once(held, 'close');
    const started = Date.now();
    await other.close();
    await cut;
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('when Redis is down', () => {
  it('says the queue is unavailable instead of hanging, and /readyz says not ready', async () => {
    const redis = createProducerConnection({ redisUrl: 'redis://127.0.0.1:1' });
    redis.on('error', () => undefined);
    const queue = createSetupQueue(redis, h.queue.prefix);
    queue.on('error', () => undefined);
    const config = { ...h.config, redisUrl: 'redis://127.0.0.1:1' };
    const runs = createRunService({ config, redis, queue });
    const down = await startSlackAppHarness({
      queue: { ...h.queue, config, redis, queue, runs, close: async () => undefined },
    });
    try {
      const answer = await down.command('setup vm-1');
      expect(answer.status).toBe(200);
      expect(shown(await down.response(answer))).toContain('queue is unavailable, try again shortly');
      const status = await down.command('status');
      expect(shown(await down.response(status))).toContain('queue is unavailable');
      const ready = await fetch(`${down.base}/readyz`);
      expect(ready.status).toBe(503);
      expect(down.slack.callsTo('chat.postMessage')).toEqual([]);
    } finally {
      await down.close();
      await queue.close().catch(() => undefined);
      redis.disconnect();
    }
  });
});
