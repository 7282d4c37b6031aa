/**
 * The one retry loop: try again after a pause that doubles from `firstMs` up to `maxMs` (or the pause the
 * error itself asks for, such as Slack's Retry-After), until `deadline`, or stop at once on an error that
 * another attempt cannot fix.
 */
export interface RetryOptions {
  /** How long to wait before the next attempt, or undefined to give up on this error now. */
  delayFor(error: unknown, backoffMs: number): number | undefined;
  /** Give up once the next attempt would start after this (ms since the epoch). @defaultValue never */
  deadline?: number;
  /** @defaultValue 250 */
  firstMs?: number;
  /** @defaultValue 30 s */
  maxMs?: number;
}

/** The pause before attempt `attempt + 1`: `firstMs`, doubling, at most `maxMs`. */
export function backoff(attempt: number, firstMs = 1000, maxMs = 30_000): number {
  return Math.min(maxMs, firstMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}

export async function retrying<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const wait = options.delayFor(error, backoff(attempt, options.firstMs ?? 250, options.maxMs));
      if (wait === undefined || Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** A Redis write that must not be lost: tried again through a blip (pauses up to 2 s) for `forMs`. */
export function persisting<T>(work: () => Promise<T>, forMs: number): Promise<T> {
  return retrying(work, { delayFor: (_, ms) => ms, deadline: Date.now() + forMs, maxMs: 2000 });
}
