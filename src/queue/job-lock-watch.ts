/**
 * Whether this processing of a job still holds its lock. BullMQ's own renewal tracks jobs by id, so when a
 * worker takes a job up again while an earlier processing of it is still winding down, the earlier one's
 * end stops the renewal of the new one, and `lockRenewalFailed` names an id, not which processing lost it.
 * So each processing renews its own lock with its own token: the first renewal that finds the lock gone
 * (Redis was away longer than the lock, the run was moved back as stalled) fires the signal.
 */

/** The part of a BullMQ job the watch needs. */
export interface LockedJob {
  extendLock(token: string, duration: number): Promise<number>;
}

export interface JobLockWatch {
  /** Fires once the lock is lost, or when `also` fires. */
  readonly signal: AbortSignal;
  /** Renews now (BullMQ reported a failed renewal for this job id: find out whether it was this processing). */
  check(): void;
  stop(): void;
}

export const LOCK_LOST = 'this worker lost the lock on the run to another';

export function watchJobLock(
  job: LockedJob,
  token: string,
  options: { lockDurationMs: number; also?: AbortSignal | undefined; onLost?: () => void },
): JobLockWatch {
  const lost = new AbortController();
  const signal = options.also ? AbortSignal.any([lost.signal, options.also]) : lost.signal;
  let inFlight = false;
  let stopped = false;

  function check(): void {
    if (inFlight || stopped || lost.signal.aborted) return;
    inFlight = true;
    // While Redis is away the call waits for it (the worker's connection queues commands), then answers.
    job.extendLock(token, options.lockDurationMs).then(
      (held) => {
        inFlight = false;
        if (held === 1 || stopped || lost.signal.aborted) return;
        lost.abort(LOCK_LOST);
        options.onLost?.();
      },
      () => {
        inFlight = false;
      },
    );
  }

  const timer = setInterval(check, Math.max(50, Math.floor(options.lockDurationMs / 2)));
  timer.unref();
  return {
    signal,
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
