import type { Log } from '../log.js';
import type { RunRecord } from '../queue/types.js';
import { persisting } from '../retry.js';
import type { WatchSchedule } from './watch-queue.js';
import type { WatchStore } from './watch-store.js';

/**
 * After a successful run: the VM is watched from its channel, and probed from now on. Written through a Redis
 * blip; a VM that still could not be watched is said in the log, and is watched after its next successful run.
 */
export function startWatching(
  store: WatchStore,
  schedule: Pick<WatchSchedule, 'schedule'>,
  log: Log,
  /** How long Redis may be away. @defaultValue 30 s */
  persistMs = 30_000,
) {
  return async (run: RunRecord, images: { runner: string; delegate: string }): Promise<void> => {
    const vm = run.target.vm;
    const watch = async () => {
      await store.watch({
        vm,
        project: run.target.project,
        zone: run.target.zone,
        channel: run.channel,
        requester: run.requester,
        runId: run.id,
        messageTs: run.messageTs,
        kind: run.kind ?? 'setup',
        images,
        delegateName: run.delegateName,
        tags: run.tags,
        since: run.finishedAt ?? run.updatedAt,
      });
      await schedule.schedule(vm);
    };
    await persisting(watch, persistMs).catch((error: unknown) =>
      log.warn(
        { vm, runId: run.id, err: String(error) },
        'could not start watching the VM; its next successful setup will',
      ),
    );
  };
}
