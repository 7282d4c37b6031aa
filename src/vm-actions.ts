/**
 * What the Slack app does on a VM itself, without a queued run: `/gitspaces status <vm>` (read what is live),
 * `/gitspaces plan <vm>` (the checks alone) and `/gitspaces logs <vm> …` (a container's last lines). None
 * changes anything, so none asks anyone.
 */
import { createEngineDeps, type EngineAdapters, runInputFor, settingsFor } from './compose.js';
import type { Config } from './config.js';
import type { RunTarget } from './queue/types.js';
import { containerLogs } from './setup/container-logs.js';
import { runSetup, type SetupTarget } from './setup/engine.js';
import { memoryJournal } from './setup/memory-journal.js';
import type { ApprovalGate, Reporter } from './setup/ports.js';
import { Redactor } from './setup/redactor.js';
import type { SetupSettings } from './setup/settings.js';
import { vmStatus } from './setup/status.js';
import type { LogsVm, PlanVm, ProbeVm } from './slack/index.js';
import { withTimeout } from './timeout.js';
import type { Look } from './watch/probe-job.js';
import type { WatchEntry } from './watch/watch-store.js';

export interface VmActionOptions {
  /** VM locator, secrets, connector, clock: the configured ones by default. */
  adapters?: EngineAdapters;
  settings?: (target: RunTarget) => SetupSettings;
}

const noGate: ApprovalGate = { decide: async () => ({ kind: 'pending' }) };
/** A reporter that tells nobody: for reads and plans whose result is returned, and for benchmarks. */
export const silentReporter: Reporter = {
  runStarted() {},
  stepStarted() {},
  stepFinished() {},
  stepFailed() {},
  approvalRequested() {},
  runFinished() {},
};

export const targetOf = (t: RunTarget): SetupTarget => ({
  kind: 'vm',
  ref: { project: t.project, zone: t.zone, name: t.vm },
});

function settingsWith(config: Config, options: VmActionOptions) {
  return options.settings ?? ((target: RunTarget) => settingsFor(config, target.vm));
}

/** The engine's adapters for a look at a VM outside a run: nothing reported, nobody asked. */
function readOnly(config: Config, options: VmActionOptions, redactor?: Redactor) {
  return createEngineDeps(config, {
    ...options.adapters,
    reporter: silentReporter,
    gate: noGate,
    journal: memoryJournal(),
    ...(redactor ? { redactor } : {}),
  });
}

export function probeVmWith(config: Config, options: VmActionOptions = {}): ProbeVm {
  const settings = settingsWith(config, options);
  return async (target) => {
    const redactor = new Redactor();
    return vmStatus(
      targetOf(target),
      settings(target),
      config.ssh,
      readOnly(config, options, redactor),
      redactor,
    );
  };
}

/** Log lines a watch notice shows of a container that is not healthy. */
const NOTICE_LOG_LINES = 20;
/** A probe that hangs (SSH half-open, Google slow) is given up as "could not probe". */
const WATCH_PROBE_TIMEOUT_MS = 90_000;

/** The watch's look at a VM: the status checks, with the host keys kept from its last look. */
export function watchLookWith(
  config: Config,
  options: VmActionOptions = {},
): (entry: WatchEntry) => Promise<Look> {
  const settings = (entry: WatchEntry) =>
    options.settings?.(entry.vm) ??
    settingsFor(config, entry.vm.vm, { delegateName: entry.vm.delegateName, tags: entry.vm.tags });
  return (entry) => {
    const redactor = new Redactor();
    const deps = readOnly(config, options, redactor);
    const look = vmStatus(targetOf(entry.vm), settings(entry), config.ssh, deps, redactor, {
      published: entry.hostKeys,
      user: entry.sshUser,
      logLines: NOTICE_LOG_LINES,
    });
    return withTimeout(
      look,
      WATCH_PROBE_TIMEOUT_MS,
      () => new Error(`no answer within ${WATCH_PROBE_TIMEOUT_MS / 1000}s`),
    );
  };
}

export function planVmWith(config: Config, options: VmActionOptions = {}): PlanVm {
  const settings = settingsWith(config, options);
  return (input, reporter) => {
    const deps = createEngineDeps(config, {
      ...options.adapters,
      reporter,
      gate: noGate,
      journal: memoryJournal(),
    });
    return runSetup(
      runInputFor(config, input.runId, 'plan', targetOf(input.target), settings(input.target)),
      deps,
    );
  };
}

export function logsVmWith(config: Config, options: VmActionOptions = {}): LogsVm {
  const settings = settingsWith(config, options);
  return (target, request) => {
    const deps = readOnly(config, options);
    return containerLogs(targetOf(target), settings(target), config.ssh, deps, request);
  };
}
