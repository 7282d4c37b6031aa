import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLedger } from '../src/slack/reporter/slack-ledger.js';
import { REDIS_URL, scanPrefix } from './support/queue-harness.js';

describe('what threads are owed', () => {
  let redis: Redis;
  const prefix = `gsb-ledger-${randomUUID().slice(0, 8)}`;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await scanPrefix(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('lets one process deliver at a time, and another once the first stops renewing', async () => {
    const a = createRedisLedger(redis, prefix, { leaseMs: 600 });
    const b = createRedisLedger(redis, prefix, { leaseMs: 600 });
    expect(await a.hold('run-1', 'summary')).toBe(true);
    expect(await a.hold('run-1', 'summary')).toBe(true);
    expect(await b.hold('run-1', 'summary')).toBe(false);
    // Renewed while `a` lives: still `a`'s well after one lease.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await b.hold('run-1', 'summary')).toBe(false);
    a.close();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await b.hold('run-1', 'summary')).toBe(true);
    b.release('run-1', 'summary');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await a.hold('run-1', 'summary')).toBe(true);
    a.close();
    b.close();
  });

  it('keeps the request until it is delivered, and lists what is owed', async () => {
    const ledger = createRedisLedger(redis, prefix);
    const request = {
      runId: 'run-2',
      vm: 'vm-2',
      hostKeyFingerprint: 'SHA256:x',
      delegateName: 'vm-2-delegate',
      delegateImage: 'harness/delegate:25.03',
      accountId: 'acct',
      tags: '',
      expiresAt: Date.now() + 60_000,
    };
    await ledger.owe('run-2', 'summary');
    await ledger.owe('run-2', 'approval', request);
    expect(await ledger.owed()).toHaveLength(2);
    expect(await ledger.owed()).toContainEqual({
      runId: 'run-2',
      kind: 'approval',
      since: expect.any(Number),
    });
    expect(await ledger.request('run-2')).toEqual(request);
    await ledger.delivered('run-2', 'approval');
    expect(await ledger.request('run-2')).toBeUndefined();
    expect(await ledger.owed()).toEqual([{ runId: 'run-2', kind: 'summary', since: expect.any(Number) }]);
    ledger.close();
  });
});
