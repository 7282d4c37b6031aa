import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalPace, createRedisPace, type SlackPace } from '../src/slack/delivery/pace.js';
import {
  createSenderClient,
  createSlackSender,
  Priority,
  type SlackSender,
} from '../src/slack/delivery/slack-sender.js';
import { silentLog } from '../src/slack/log.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { REDIS_URL, scanPrefix } from './support/queue-harness.js';

const TOKEN = 'xoxb-pace-test';

describe('local pace', () => {
  it('hands out one post slot per spacing and says how long to wait for the next', async () => {
    let now = 10_000;
    const pace = createLocalPace(() => now);
    expect(await pace.take('post:C1', { kind: 'spacing', ms: 1000 })).toBe(0);
    expect(await pace.take('post:C1', { kind: 'spacing', ms: 1000 })).toBe(1000);
    expect(await pace.take('post:C2', { kind: 'spacing', ms: 1000 })).toBe(0);
    now += 400;
    expect(await pace.take('post:C1', { kind: 'spacing', ms: 1000 })).toBe(600);
    now += 600;
    expect(await pace.take('post:C1', { kind: 'spacing', ms: 1000 })).toBe(0);
  });

  it('lets a burst through a window, then waits until the oldest call leaves it', async () => {
    let now = 0;
    const pace = createLocalPace(() => now);
    const rule = { kind: 'window', limit: 3, windowMs: 60_000 } as const;
    for (const at of [0, 10, 20]) {
      now = at;
      expect(await pace.take('update', rule)).toBe(0);
    }
    now = 30_000;
    expect(await pace.take('update', rule)).toBe(30_000);
    // A stricter limit for the same lane counts the same calls.
    expect(await pace.take('update', { ...rule, limit: 2 })).toBe(30_010);
    now = 60_000;
    expect(await pace.take('update', rule)).toBe(0);
  });

  it('keeps a lane shut for as long as Slack said', async () => {
    let now = 0;
    const pace = createLocalPace(() => now);
    await pace.block('post:C1', 3000);
    expect(await pace.take('post:C1', { kind: 'spacing', ms: 1000 })).toBe(3000);
    now = 3000;
    expect(await pace.take('post:C1', { kind: 'spacing', ms: 1000 })).toBe(0);
  });
});

describe('pace shared through Redis', () => {
  let redis: Redis;
  let other: Redis;
  const prefix = `gsb-pace-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    other = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await scanPrefix(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    other.disconnect();
  });

  it('gives one process’s slot to no other process', async () => {
    const a = createRedisPace(redis, prefix);
    const b = createRedisPace(other, prefix);
    const spacing = { kind: 'spacing', ms: 1000 } as const;
    expect(await a.take('post:C1', spacing)).toBe(0);
    const wait = await b.take('post:C1', spacing);
    expect(wait).toBeGreaterThan(900);
    expect(wait).toBeLessThanOrEqual(1000);
    expect(await b.take('post:C2', spacing)).toBe(0);
  });

  it('counts every process’s edits in one window, and honours a 429 one of them got', async () => {
    const a = createRedisPace(redis, prefix);
    const b = createRedisPace(other, prefix);
    const rule = { kind: 'window', limit: 4, windowMs: 60_000 } as const;
    const taken = await Promise.all([a, b, a, b, a, b].map((pace) => pace.take('update', rule)));
    expect(taken.filter((wait) => wait === 0)).toHaveLength(4);
    expect(Math.min(...taken.filter((wait) => wait > 0))).toBeGreaterThan(59_000);
    await a.block('post:C9', 5000);
    expect(await b.take('post:C9', { kind: 'spacing', ms: 1000 })).toBeGreaterThan(4000);
  });

  it('gives a free slot to the best claim any process made, and lets a claim go when its process leaves', async () => {
    const [a, b, c] = [redis, other, redis].map((r) => createRedisPace(r, prefix));
    const spacing = { kind: 'spacing', ms: 300 } as const;
    const since = Date.now();
    expect(await a?.take('post:C5', spacing)).toBe(0);
    // Two processes wait: one with a summary (later), one with an approval request (urgent), made after it.
    expect(await b?.take('post:C5', spacing, { priority: 2, since })).toBeGreaterThan(200);
    expect(await c?.take('post:C5', spacing, { priority: 0, since: since + 5 })).toBeGreaterThan(200);
    await new Promise((resolve) => setTimeout(resolve, 320));
    // The slot is free, but not for the summary while the approval request waits.
    const held = await b?.take('post:C5', spacing, { priority: 2, since });
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(100);
    expect(await c?.take('post:C5', spacing, { priority: 0, since: since + 5 })).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 320));
    // A claim whose process leaves holds nobody back.
    expect(await c?.take('post:C5', spacing, { priority: 0, since: Date.now() })).toBe(0);
    expect(await a?.take('post:C5', spacing, { priority: 0, since: Date.now() })).toBeGreaterThan(200);
    await a?.leave('post:C5');
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect(await b?.take('post:C5', spacing, { priority: 2, since })).toBe(0);
  });

  it('stops honouring the claim of a process that stopped asking (it died) soon after its wait', async () => {
    const [a, b, c] = [redis, other, redis].map((r) => createRedisPace(r, prefix));
    const spacing = { kind: 'spacing', ms: 100 } as const;
    expect(await a?.take('post:C6', spacing)).toBe(0);
    expect(await b?.take('post:C6', spacing, { priority: 0, since: Date.now() })).toBeGreaterThan(0);
    const started = Date.now();
    let wait = 1;
    while (wait > 0 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      wait = await (c as SlackPace).take('post:C6', spacing, { priority: 2, since: started });
    }
    expect(wait).toBe(0);
    // Its wait (about 100 ms) and the grace (1.5 s): not at once, and not forever.
    expect(Date.now() - started).toBeGreaterThan(1000);
  });

  it('paces this process alone when Redis does not answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const pace = createRedisPace(dead, prefix);
    const spacing = { kind: 'spacing', ms: 1000 } as const;
    expect(await pace.take('post:C1', spacing)).toBe(0);
    expect(await pace.take('post:C1', spacing)).toBeGreaterThan(900);
    dead.disconnect();
  });
});

describe('Slack sender lanes', () => {
  let slack: FakeSlack;
  const senders: SlackSender[] = [];

  beforeEach(async () => {
    slack = await startFakeSlack({ token: TOKEN, rateLimits: true });
  });
  afterEach(async () => {
    for (const sender of senders.splice(0)) sender.close();
    await slack.close();
  });

  function sender(pace?: SlackPace, over: { updatesPerMinute?: number } = {}): SlackSender {
    const made = createSlackSender({
      client: createSenderClient(TOKEN, slack.url),
      log: silentLog,
      pace,
      ...over,
    });
    senders.push(made);
    return made;
  }

  it('posts an approval request at once while edits wait for the minute to pass', async () => {
    const s = sender(undefined, { updatesPerMinute: 3 });
    const parent = await s.call('chat.postMessage', { channel: 'C1', text: 'parent' });
    const edits = [1, 2, 3, 4, 5].map((n) =>
      s.call('chat.update', { channel: 'C1', ts: parent.ts, text: `edit ${n}` }).catch(() => undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const started = Date.now();
    await s.call(
      'chat.postMessage',
      { channel: 'C1', thread_ts: parent.ts, text: 'approve?' },
      { priority: Priority.urgent },
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(slack.calls.filter((c) => c.method === 'chat.update' && c.ok)).toHaveLength(1);
    s.close();
    await Promise.all(edits);
    expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });

  it('sends what is waiting in one channel by priority, then in order', async () => {
    const s = sender();
    const order: string[] = [];
    const post = (text: string, priority: Priority) =>
      s.call('chat.postMessage', { channel: 'C2', text }, { priority }).then(() => order.push(text));
    await Promise.all([
      post('first', Priority.normal),
      post('summary a', Priority.later),
      post('summary b', Priority.later),
      post('failure', Priority.normal),
      post('approval', Priority.urgent),
    ]);
    expect(order).toEqual(['first', 'approval', 'failure', 'summary a', 'summary b']);
    expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });

  it('lets the messages of runs already under way go before the parents of runs asked for later', async () => {
    const s = sender();
    const order: string[] = [];
    const post = (text: string, since: number) =>
      s
        .call('chat.postMessage', { channel: 'C5', text }, { priority: Priority.urgent, since })
        .then(() => order.push(text));
    const asked = Date.now() - 10_000;
    // Three commands came at once: their parents wait for the channel. The first run's approval request
    // is asked for after them, yet it goes before the parents of the runs that came after it.
    const parents = [post('parent 1', asked), post('parent 2', asked + 1), post('parent 3', asked + 2)];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const approval = post('approval 1', asked);
    await Promise.all([...parents, approval]);
    expect(order).toEqual(['parent 1', 'approval 1', 'parent 2', 'parent 3']);
  });

  it('makes a waiting message from what is known when its turn comes, after fetching it', async () => {
    const s = sender();
    await s.call('chat.postMessage', { channel: 'C6', text: 'takes the slot' });
    let state = 'queued';
    let fetched = 0;
    const sent = await s.callLatest('chat.postMessage', () => ({ channel: 'C6', text: state }), {
      beforeSend: async () => {
        fetched += 1;
        state = 'awaiting-approval';
      },
    });
    expect(fetched).toBe(1);
    expect(slack.message('C6', String(sent?.ts))?.text).toBe('awaiting-approval');
    // A fetch that hangs holds the message half a second at most; it goes out with what is known.
    const stuck = await s.callLatest('chat.postMessage', () => ({ channel: 'C6', text: 'as known' }), {
      beforeSend: () => new Promise(() => undefined),
    });
    expect(slack.message('C6', String(stuck?.ts))?.text).toBe('as known');
  });

  it('sends an edit that waited with the state that is latest when its turn comes', async () => {
    const s = sender(undefined, { updatesPerMinute: 1 });
    const parent = await s.call('chat.postMessage', { channel: 'C3', text: 'parent' });
    await s.call('chat.update', { channel: 'C3', ts: parent.ts, text: 'v1' });
    let state = 'v2';
    const latest = s.callLatest('chat.update', () => ({ channel: 'C3', ts: parent.ts, text: state }));
    state = 'v3';
    s.close();
    await expect(latest).rejects.toThrow(/closed/);
    const next = sender(undefined, { updatesPerMinute: 5 });
    const sent = await next.callLatest('chat.update', () => ({ channel: 'C3', ts: parent.ts, text: state }));
    expect(sent?.ok).toBe(true);
    expect(slack.message('C3', String(parent.ts))?.text).toBe('v3');
    expect(await next.callLatest('chat.update', () => undefined)).toBeUndefined();
  });

  /** Two processes' paces shared through Redis under a prefix of their own, cleaned up after `use`. */
  async function twoProcesses(use: (a: SlackPace, b: SlackPace) => Promise<void>): Promise<void> {
    const prefix = `gsb-pace-${randomUUID().slice(0, 8)}`;
    const a = new Redis(REDIS_URL);
    const b = new Redis(REDIS_URL);
    try {
      await use(createRedisPace(a, prefix), createRedisPace(b, prefix));
    } finally {
      const keys = await scanPrefix(a, prefix);
      if (keys.length > 0) await a.del(...keys);
      a.disconnect();
      b.disconnect();
    }
  }

  it('sends an urgent post of one process before the summaries another process had waiting in the channel', async () => {
    await twoProcesses(async (workerPace, appPace) => {
      const worker = sender(workerPace);
      // The app's answers from Redis come late: the worker always asks first once the channel is free.
      const slow: SlackPace = {
        ...appPace,
        take: async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, 150));
          return appPace.take(...args);
        },
      };
      const app = sender(slow);
      const summaries = [1, 2, 3, 4].map((n) =>
        worker.call(
          'chat.postMessage',
          { channel: 'C7', text: `summary ${n}` },
          { priority: Priority.later },
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await app.call('chat.postMessage', { channel: 'C7', text: 'approval' }, { priority: Priority.urgent });
      await Promise.all(summaries);
      expect(slack.channelMessages('C7').map((m) => m.text)).toEqual([
        'summary 1',
        'approval',
        'summary 2',
        'summary 3',
        'summary 4',
      ]);
      expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
    });
  });

  it('lets two processes post into one channel without a single 429 when they share Redis', async () => {
    await twoProcesses(async (paceOne, paceTwo) => {
      const one = sender(paceOne);
      const two = sender(paceTwo);
      const posts = [];
      for (let n = 0; n < 4; n++) {
        posts.push(one.call('chat.postMessage', { channel: 'C4', text: `one ${n}` }));
        posts.push(two.call('chat.postMessage', { channel: 'C4', text: `two ${n}` }));
      }
      await Promise.all(posts);
      expect(slack.channelMessages('C4')).toHaveLength(8);
      expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
    });
  });
});
