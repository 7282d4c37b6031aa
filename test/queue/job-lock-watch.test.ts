import { describe, expect, it } from 'vitest';
import { LOCK_LOST, watchJobLock } from '../../src/queue/job-lock-watch.js';

/** A job whose lock answers as the test says, recording the tokens it was asked to extend. */
function lockedJob(held: () => number | Promise<number>) {
  const asked: string[] = [];
  return {
    asked,
    extendLock: async (token: string) => {
      asked.push(token);
      return held();
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the lock watch of one processing', () => {
  it('keeps the signal quiet while its own token still holds the lock', async () => {
    const job = lockedJob(() => 1);
    const watch = watchJobLock(job, 'token-a', { lockDurationMs: 60_000 });
    watch.check();
    await tick();
    expect(job.asked).toEqual(['token-a']);
    expect(watch.signal.aborted).toBe(false);
    watch.stop();
  });

  it('fires once a renewal finds the lock held by another processing, and says so', async () => {
    let lost = 0;
    const job = lockedJob(() => 0);
    const watch = watchJobLock(job, 'token-a', { lockDurationMs: 60_000, onLost: () => lost++ });
    watch.check();
    await tick();
    expect(watch.signal.aborted).toBe(true);
    expect(watch.signal.reason).toBe(LOCK_LOST);
    watch.check();
    await tick();
    expect(lost).toBe(1);
    watch.stop();
  });

  it('renews on its own every half lock, and waits out a Redis that does not answer', async () => {
    let answer: (held: number) => void = () => undefined;
    const job = lockedJob(() => new Promise<number>((resolve) => (answer = resolve)));
    const watch = watchJobLock(job, 'token-a', { lockDurationMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 180));
    // One renewal in flight while Redis is away, not one per interval.
    expect(job.asked).toEqual(['token-a']);
    expect(watch.signal.aborted).toBe(false);
    answer(0);
    await tick();
    expect(watch.signal.aborted).toBe(true);
    watch.stop();
  });

  it('passes on the queue’s own cancellation, and says nothing after it stopped', async () => {
    const cancelled = new AbortController();
    const job = lockedJob(() => 0);
    const watch = watchJobLock(job, 'token-a', { lockDurationMs: 60_000, also: cancelled.signal });
    cancelled.abort('closing');
    expect(watch.signal.aborted).toBe(true);
    const quiet = watchJobLock(
      lockedJob(() => 0),
      'token-b',
      { lockDurationMs: 60_000 },
    );
    quiet.stop();
    quiet.check();
    await tick();
    expect(quiet.signal.aborted).toBe(false);
    watch.stop();
  });
});
