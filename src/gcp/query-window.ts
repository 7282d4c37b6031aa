import type { Clock } from '../setup/ports.js';

/**
 * Keeps queries per key under a limit per sliding window. Guest attributes allow 10 queries a minute per VM
 * (https://cloud.google.com/compute/docs/metadata/manage-guest-attributes); beyond that Google answers 429.
 */
export class QueryWindow {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limit = 10,
    /** A second over the minute, so that clock skew with Google never makes the 11th query count early. */
    private readonly windowMs = 61_000,
  ) {}

  /** Waits until one more query for `key` stays within the limit, then counts it. */
  async take(key: string): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const recent = (this.sent.get(key) ?? []).filter((at) => now - at < this.windowMs);
      const oldest = recent[0];
      if (recent.length < this.limit || oldest === undefined) {
        recent.push(now);
        this.sent.set(key, recent);
        return;
      }
      this.sent.set(key, recent);
      await this.clock.sleep(oldest + this.windowMs - now);
    }
  }
}
