import type { RunRecord } from './types.js';

/** What a run is asked for with: where, by whom, from which channel, and the delegate's optional settings. */
export type RunRequest = Pick<RunRecord, 'target' | 'requester' | 'channel'> &
  Partial<Pick<RunRecord, 'delegateName' | 'tags' | 'kind' | 'images'>>;

/** A run as it is when asked for at `at`: queued, with no messages, steps or decision yet. */
export function queuedRun(id: string, at: number, request: RunRequest): RunRecord {
  return {
    id,
    target: request.target,
    requester: request.requester,
    channel: request.channel,
    messageTs: undefined,
    approvalTs: undefined,
    delegateName: request.delegateName,
    tags: request.tags,
    kind: request.kind ?? 'setup',
    ...(request.images ? { images: request.images } : {}),
    state: 'queued',
    steps: [],
    decision: undefined,
    approvalExpiresAt: undefined,
    createdAt: at,
    updatedAt: at,
    finishedAt: undefined,
    audit: [],
  };
}
