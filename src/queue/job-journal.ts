/**
 * The engine's journal kept in the job's data, so that whichever worker takes the job up (after a crash,
 * a retry or a wake from approval) resumes at the step the run was in. Job data holds references only;
 * step summaries are redacted one-liners.
 */
import type { Journal, JournalState } from '../setup/ports.js';
import type { SetupJobData } from './types.js';

/** The part of a BullMQ job the journal needs. */
export interface JournalJob {
  data: SetupJobData;
  updateData(data: SetupJobData): Promise<void>;
}

export function createJobJournal(job: JournalJob): Journal {
  return {
    async load() {
      return job.data.journal;
    },
    async save(state: JournalState) {
      const data = { ...job.data, journal: state };
      await job.updateData(data);
      job.data = data;
    },
  };
}
