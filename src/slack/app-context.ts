/**
 * What the listeners share. Built once by `createApp` from the configuration and the dependencies the
 * composition root passes in.
 */
import type { Config } from '../config.js';
import type { RunService } from '../queue/run-service.js';
import type { RunTarget } from '../queue/types.js';
import type { Reporter, RunResult } from '../setup/ports.js';
import type { VmStatus } from '../setup/probe.js';
import type { AccessPolicy } from './access/access-policy.js';
import type { SlackSender } from './delivery/slack-sender.js';
import type { Log } from './log.js';
import type { SlackLedger } from './reporter/slack-ledger.js';
import type { SlackReporters } from './reporter/slack-reporters.js';

/** Connects to the VM and reads what is live there (`/gitspaces status <vm>`). */
export type ProbeVm = (target: RunTarget) => Promise<VmStatus>;

/** Runs the engine in plan mode against the VM, telling `reporter` (`/gitspaces plan <vm>`). */
export type PlanVm = (
  input: { runId: string; target: RunTarget; requester: string },
  reporter: Reporter,
) => Promise<RunResult>;

/** prom-client's Registry fits. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface AppContext {
  config: Config;
  runs: RunService;
  access: AccessPolicy;
  /** Paced, retrying Web API calls (posts, edits, lookups). */
  sender: SlackSender;
  /** For runs this process ends or drives itself (a queued run cancelled, a plan). */
  reporters: SlackReporters;
  /** Leases on parent messages, so that the app and a worker never both post one (with Redis only). */
  ledger: SlackLedger | undefined;
  log: Log;
  probeVm: ProbeVm | undefined;
  planVm: PlanVm | undefined;
}
