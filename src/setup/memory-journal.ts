import type { Journal, JournalState } from './ports.js';

/** A journal that lives as long as the process: terminal runs. */
export function memoryJournal(initial?: JournalState): Journal & { state: JournalState | undefined } {
  const journal = {
    state: initial === undefined ? undefined : structuredClone(initial),
    load: async () => (journal.state === undefined ? undefined : structuredClone(journal.state)),
    save: async (state: JournalState) => {
      journal.state = structuredClone(state);
    },
  };
  return journal;
}
