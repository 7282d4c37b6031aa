/**
 * The work a command does after its ack (Redis, Web API calls, rendering) waits until no other command is
 * arriving, so that it never holds up someone else's ack: Slack gives each request 3 s and shows the person
 * an error past that, whereas an answer through response_url may come minutes later. When commands keep
 * arriving, the oldest waiting work still starts after `maxWaitMs`, one at a time.
 * Measured (docs/performance.md, row 1): with 50 commands in flight and this work started at once, the
 * acks' p99 is 2.1–2.6× a bare Bolt app's; waiting its turn brings it back within the 1.3× goal.
 * https://docs.slack.dev/interactivity/implementing-slash-commands#responding_to_commands
 */
import { performance } from 'node:perf_hooks';

/**
 * `quietMs`: how long no command may have arrived before waiting work starts. `concurrency`: work running at
 * once when none is arriving; each runs on through several Redis and Web API answers, which would hold up the
 * acks of the next burst of commands if many had started.
 */
export function createFollowUps({ quietMs = 5, maxWaitMs = 250, concurrency = 4 } = {}) {
  const waiting: { at: number; start(): void }[] = [];
  let lastArrival = Number.NEGATIVE_INFINITY;
  let running = 0;
  let looking = false;

  /**
   * Timers run before the event loop reads its sockets: a process that was not scheduled for a while would
   * otherwise take commands already waiting in its sockets for a quiet moment. setImmediate decides after.
   */
  const lookIn = (ms: number) => {
    if (looking) return;
    looking = true;
    setTimeout(() => setImmediate(pump), Math.max(1, ms));
  };

  function pump(): void {
    looking = false;
    const now = performance.now();
    const quiet = now - lastArrival >= quietMs;
    for (let head = waiting[0]; head !== undefined; head = waiting[0]) {
      if (running >= (quiet ? concurrency : 1) || (!quiet && now - head.at < maxWaitMs)) break;
      waiting.shift();
      running++;
      head.start();
    }
    // Quiet: the next starts when running work ends. Else look again when it may be, or when the oldest
    // work has waited long enough.
    const head = waiting[0];
    if (head !== undefined && !quiet)
      lookIn(Math.min(quietMs - (now - lastArrival), maxWaitMs - (now - head.at)));
  }

  return {
    /** A command came in: its ack goes first. */
    arrived() {
      lastArrival = performance.now();
    },
    /** Runs `work` once its turn comes; settles as `work` does. */
    run(work: () => Promise<void>): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const start = () =>
          work()
            .then(resolve, reject)
            .finally(() => {
              running--;
              lookIn(0);
            });
        waiting.push({ at: performance.now(), start });
        lookIn(0);
      });
    },
  };
}
