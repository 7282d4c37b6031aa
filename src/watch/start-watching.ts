import type { RunRecord } from '../queue/types.js';
import type { WatchSchedule } from './watch-queue.js';
import type { WatchStore } from './watch-store.js';

/** After a successful run: the VM is watched from its channel, and probed from now on. */
export function startWatching(store: WatchStore, schedule: Pick<WatchSchedule, 'schedule'>) {
  return async (run: RunRecord, images: { runner: string; delegate: string }): Promise<void> => {
    await store.watch({
      vm: run.target.vm,
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
    await schedule.schedule(run.target.vm);
  };
}
