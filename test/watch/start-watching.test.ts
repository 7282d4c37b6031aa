/**
 * A successful run starts the watch of its VM: through a Redis blip it still does, and when Redis stays away the
 * run is not failed for it, but the log says which VM is not watched.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Log } from '../../src/log.js';
import { startWatching } from '../../src/watch/start-watching.js';
import { createWatchSchedule, type WatchSchedule } from '../../src/watch/watch-queue.js';
import { createWatchStore, type WatchStore } from '../../src/watch/watch-store.js';
import { openQueueHarness, type QueueHarness } from '../support/queue-harness.js';
import { runRecord } from '../support/run-record.js';

let q: QueueHarness;
let store: WatchStore;
let schedule: WatchSchedule;
const warnings: Array<{ fields: object; message?: string }> = [];
const log: Log = {
  debug() {},
  info() {},
  warn: (fields, message) => warnings.push({ fields, message }),
  error() {},
};

beforeEach(async () => {
  q = await openQueueHarness();
  store = createWatchStore(q.redis, q.prefix);
  schedule = createWatchSchedule(q.redis, q.prefix, 60_000);
  warnings.splice(0);
});
afterEach(async () => {
  await schedule.close();
  await q.close();
});

const images = { runner: 'drone/drone-runner-aws:latest', delegate: 'harness/delegate:25.03.85504' };
const run = () =>
  runRecord('run-watch-1', {
    target: { vm: 'vm-1', project: undefined, zone: undefined },
    channel: 'C0WATCH',
    state: 'succeeded',
  });

it('watches the VM of a successful run through a Redis blip', async () => {
  let blips = 2;
  const blipping = {
    schedule: async (vm: string) => {
      if (blips-- > 0) throw new Error('Connection is closed.');
      await schedule.schedule(vm);
    },
  };
  await startWatching(store, blipping, log)(run(), images);
  expect((await store.get('vm-1'))?.vm).toMatchObject({ channel: 'C0WATCH', runId: 'run-watch-1', images });
  expect((await schedule.queue.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['vm-vm-1']);
  expect(warnings).toEqual([]);
});

it('does not fail the run when Redis stays away, and says which VM is not watched', async () => {
  const away = { schedule: async () => Promise.reject(new Error('Connection is closed.')) };
  await expect(startWatching(store, away, log, 1000)(run(), images)).resolves.toBeUndefined();
  expect(warnings).toEqual([
    {
      fields: expect.objectContaining({ vm: 'vm-1', runId: 'run-watch-1' }),
      message: expect.stringContaining('could not start watching'),
    },
  ]);
});
