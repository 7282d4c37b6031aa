/**
 * The engine in this process against the real-engine tier, as a worker drives it: the same adapters as the
 * CLI (`createEngineDeps`), a journal kept between runs of one setup, a gate the bench answers, and the
 * time each step finished. A run parked at approval is resumed by a second `runSetup` with the journal,
 * exactly as a worker resumes it after the click.
 */
import { createEngineDeps, runInputFor, settingsFor } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { runSetup } from '../../src/setup/engine.js';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import type { ApprovalDecision, Reporter, RunResult } from '../../src/setup/ports.js';
import type { StepId } from '../../src/setup/step-ids.js';
import { type EngineTier, NETWORK } from '../../test/support/engine/tier.js';

export interface EngineRun {
  result: RunResult;
  /** performance.now() at which each step finished. */
  finishedAt: Partial<Record<StepId, number>>;
  /** Progress lines the steps printed (pulls, what would change). */
  output: string[];
}

export interface EngineSession {
  /** One run of the setup; `decide` answers the approval (pending parks the run). */
  run(decide: () => ApprovalDecision, options?: { upgradeDelegate?: string }): Promise<EngineRun>;
}

function recordingReporter(run: Omit<EngineRun, 'result'>): Reporter {
  return {
    runStarted: () => undefined,
    stepStarted: () => undefined,
    stepOutput: (_id, text) => void run.output.push(text),
    stepFinished: (record) => {
      run.finishedAt[record.id] = performance.now();
    },
    stepFailed: (_record, error) => void run.output.push(`failed: ${error.message}`),
    approvalRequested: () => undefined,
    runFinished: () => undefined,
  };
}

/** A setup of the tier's VM whose runs share one journal (one run id), as one Slack run's attempts do. */
export function engineSession(
  tier: EngineTier,
  runId: string,
  options: { delegateImage?: string } = {},
): EngineSession {
  const config = loadConfig(
    {
      POOL_SECRET: tier.secrets.refs.pool,
      DELEGATE_TOKEN_SECRET: tier.secrets.refs.delegateToken,
      SSH_KEY_SECRET: tier.secrets.refs.sshKey,
      HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
      RUNNER_DIR: tier.runnerDir,
      RUNNER_IMAGE: tier.images.runner,
      DELEGATE_IMAGE: options.delegateImage ?? tier.images.delegate,
      DOCKER_NETWORK: NETWORK,
      SSH_USER: tier.vm.user,
      SSH_HOST_KEY_POLICY: 'known-hosts',
      SSH_KNOWN_HOSTS: tier.vm.knownHostsFile,
      RUNNER_HEALTH_TIMEOUT: '30s',
      DELEGATE_HEALTH_TIMEOUT: '30s',
    },
    { needs: ['secrets', 'harness'] },
  );
  const journal = memoryJournal();
  const target = { kind: 'host' as const, host: '127.0.0.1', port: tier.vm.port, name: 'vm-engine' };
  return {
    async run(decide, how = {}) {
      const progress = { finishedAt: {}, output: [] };
      const deps = createEngineDeps(config, {
        reporter: recordingReporter(progress),
        gate: { decide: async () => decide() },
        journal,
      });
      const input = runInputFor(config, runId, 'setup', target, settingsFor(config, 'vm-engine'));
      if (how.upgradeDelegate !== undefined) {
        input.kind = 'upgrade';
        input.upgrade = { delegate: how.upgradeDelegate };
      }
      return { ...progress, result: await runSetup(input, deps) };
    },
  };
}

export const approved = (): ApprovalDecision => ({ kind: 'approved', by: 'U0BENCH', at: Date.now() });
export const pending = (): ApprovalDecision => ({ kind: 'pending' });
