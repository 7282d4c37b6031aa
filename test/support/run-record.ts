import { queuedRun } from '../../src/queue/queued-run.js';
import type { RunRecord } from '../../src/queue/types.js';

/** A queued run of `vm-<id>` asked for now in C0RUNS, with `over` on top. */
export function runRecord(id: string, over: Partial<RunRecord> = {}): RunRecord {
  const run = queuedRun(id, Date.now(), {
    target: { vm: `vm-${id}`, project: 'my-project', zone: 'us-central1-a' },
    requester: 'U0REQ',
    channel: 'C0RUNS',
  });
  return { ...run, ...over };
}
