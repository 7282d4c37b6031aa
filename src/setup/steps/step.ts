import type { Observed } from '../container-state.js';
import type { RunPulls } from '../image-pull.js';
import type { PreparedPool } from '../pool-file.js';
import type { Clock, RemoteHost } from '../ports.js';
import type { Redactor } from '../redactor.js';
import type { SetupSettings } from '../settings.js';
import type { StepId } from '../step-ids.js';
import type { VmShell } from '../vm-shell.js';

/** Secret material a run holds in memory only, for that run. */
export interface RunMaterial {
  pool: PreparedPool;
  poolHash: string;
  token: string;
  saKey: Buffer | undefined;
}

export interface StepContext {
  /** The run's id ([A-Za-z0-9_-]): names the run's temporary files on the VM. */
  runId: string;
  vm: VmShell;
  remote: RemoteHost;
  settings: SetupSettings;
  material: RunMaterial;
  clock: Clock;
  redactor: Redactor;
  signal: AbortSignal | undefined;
  /** The run's image pulls: one already running is the one a step waits for. */
  pulls: RunPulls;
}

export interface Check {
  ok: boolean;
  /** What was found, in a few words (`vm-runner running drone/drone-runner-aws:latest`). */
  summary: string;
  /** A container step's observation, for its apply right after the check. */
  seen?: Observed;
}

/** A step on the VM: check whether it is in place; if not, apply it; the engine checks again to verify. */
export interface VmStep {
  id: StepId;
  /** A step whose change in this run makes a passing check of this one count as `done` (health after a new container). */
  after?: StepId;
  check(ctx: StepContext): Promise<Check>;
  /** Returns what it did, in a few words. */
  apply(ctx: StepContext, found: Check): Promise<string>;
  /** After the step passed in a run that changes things: tidies up (a kept `<name>-previous`); says what. */
  settle?(ctx: StepContext): Promise<string | undefined>;
}
