import { createInterface } from 'node:readline/promises';
import type { ApprovalDecision, ApprovalGate } from '../setup/ports.js';

export interface TerminalGateOptions {
  yes: boolean;
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  user: string;
  now?: () => number;
}

/**
 * Approval in a terminal: `--yes` approves in advance; on a TTY it asks y/N; with no terminal and no `--yes`
 * it stays pending, and the run stops at approval.
 */
export function terminalGate(options: TerminalGateOptions): ApprovalGate {
  const now = options.now ?? Date.now;
  return {
    async decide(request): Promise<ApprovalDecision> {
      if (options.yes) return { kind: 'approved', by: options.user, at: now() };
      if (!options.input.isTTY) return { kind: 'pending' };
      const rl = createInterface({ input: options.input, output: options.output });
      try {
        const ask =
          (request.changes ?? []).length > 0 ? 'Make these changes now?' : 'Install the delegate now?';
        const answer = (await rl.question(`${ask} [y/N] `)).trim().toLowerCase();
        return answer === 'y' || answer === 'yes'
          ? { kind: 'approved', by: options.user, at: now() }
          : { kind: 'rejected', by: options.user, at: now() };
      } finally {
        rl.close();
      }
    },
  };
}
