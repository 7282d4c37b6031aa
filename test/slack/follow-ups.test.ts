import { describe, expect, it } from 'vitest';
import { createFollowUps } from '../../src/slack/commands/follow-ups.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('work after a command’s ack', () => {
  it('waits while other commands keep arriving, and starts once they stop', async () => {
    const followUps = createFollowUps({ quietMs: 20, maxWaitMs: 10_000 });
    const started: number[] = [];
    const t0 = Date.now();
    followUps.arrived();
    const done = followUps.run(async () => {
      started.push(Date.now() - t0);
    });
    for (let i = 0; i < 6; i++) {
      await sleep(10);
      followUps.arrived();
    }
    expect(started).toEqual([]);
    await done;
    expect(started[0]).toBeGreaterThanOrEqual(60);
  });

  it('starts the oldest work after the longest wait even while commands keep arriving, one at a time', async () => {
    const followUps = createFollowUps({ quietMs: 1_000, maxWaitMs: 40 });
    let running = 0;
    let most = 0;
    const arriving = setInterval(() => followUps.arrived(), 5);
    try {
      followUps.arrived();
      await Promise.all(
        [1, 2, 3].map(() =>
          followUps.run(async () => {
            most = Math.max(most, ++running);
            await sleep(10);
            running--;
          }),
        ),
      );
    } finally {
      clearInterval(arriving);
    }
    expect(most).toBe(1);
  });

  it('passes a failure of the work to whoever waits for it', async () => {
    const followUps = createFollowUps({ quietMs: 1 });
    await expect(
      followUps.run(async () => {
        throw new Error('Redis unavailable');
      }),
    ).rejects.toThrow('Redis unavailable');
    await expect(followUps.run(async () => undefined)).resolves.toBeUndefined();
  });
});
