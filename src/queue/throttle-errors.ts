/**
 * While Redis is away every client reports an error per reconnect attempt (several a second, from the
 * connection and from BullMQ's queue): one line per interval says the same, with a count of the rest.
 */
export interface ThrottleOptions {
  /** @defaultValue 10 s */
  intervalMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

export function throttleErrors(
  report: (error: Error, suppressed: number) => void,
  options: ThrottleOptions = {},
): (error: Error) => void {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error) => {
    const at = now();
    if (at - last < intervalMs) {
      suppressed += 1;
      return;
    }
    last = at;
    report(error, suppressed);
    suppressed = 0;
  };
}
