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

export interface FollowUps {
  /** A command came in: its ack goes first. */
  arrived(): void;
  /** Runs `work` once its turn comes; settles as `work` does. */
  run(work: () => Promise<void>): Promise<void>;
}

export interface FollowUpOptions {
  /** How long no command may have arrived before waiting work starts. @defaultValue 5 ms */
  quietMs?: number;
  /** The longest work waits while commands keep arriving. @defaultValue 250 ms */
  maxWaitMs?: number;
  /**
   * Work running at once when no command is arriving. Each runs on through several Redis and Web API
   * answers, which would hold up the acks of the next burst of commands if many had started. @defaultValue 4
   */
  concurrency?: number;
}

interface Waiting {
  at: number;
  start(): void;
}

export function createFollowUps(options: FollowUpOptions = {}): FollowUps {
  const quietMs = options.quietMs ?? 5;
  const maxWaitMs = options.maxWaitMs ?? 250;
  const concurrency = options.concurrency ?? 4;
  const waiting: Waiting[] = [];
  let lastArrival = Number.NEGATIVE_INFINITY;
  let running = 0;
  let timer: NodeJS.Timeout | undefined;

  function pump(): void {
    timer = undefined;
    const now = performance.now();
    const quiet = now - lastArrival >= quietMs;
    for (let head = waiting[0]; head !== undefined; head = waiting[0]) {
      if (running >= (quiet ? concurrency : 1) || (!quiet && now - head.at < maxWaitMs)) break;
      waiting.shift();
      running++;
      head.start();
    }
    const head = waiting[0];
    // Quiet: the next starts when running work ends.
    if (head === undefined || quiet) return;
    // Not quiet: look again when it may be, or when the oldest work has waited long enough.
    const untilQuiet = quietMs - (now - lastArrival);
    const untilDue = maxWaitMs - (now - head.at);
    timer = setTimeout(afterPoll, Math.max(1, Math.min(untilQuiet, untilDue)));
  }

  /**
   * Timers run before the event loop reads its sockets: a process that was not scheduled for a while would
   * otherwise take commands already waiting in its sockets for a quiet moment. setImmediate decides after.
   */
  function afterPoll(): void {
    setImmediate(pump);
  }

  function schedule(): void {
    if (timer === undefined) timer = setTimeout(afterPoll, 0);
  }

  return {
    arrived() {
      lastArrival = performance.now();
    },
    run(work) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({
          at: performance.now(),
          start: () => {
            let released = false;
            const release = () => {
              if (released) return;
              released = true;
              running--;
              schedule();
            };
            work().then(resolve, reject).finally(release);
          },
        });
        schedule();
      });
    },
  };
}
