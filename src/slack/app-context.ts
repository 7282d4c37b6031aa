/**
 * What the listeners share. Built once by `createApp` from the configuration and the dependencies the
 * composition root passes in.
 */
import type { Config } from '../config.js';
import type { Log } from '../log.js';
import type { RunService } from '../queue/run-service.js';
import type { RunTarget } from '../queue/types.js';
import type { ContainerLogs, LogsRequest } from '../setup/container-logs.js';
import type { Reporter, RunResult } from '../setup/ports.js';
import type { VmStatus } from '../setup/probe.js';
import type { WatchStore } from '../watch/watch-store.js';
import type { AccessPolicy } from './access/access-policy.js';
import type { SlackDelivery } from './delivery/slack-delivery.js';
import type { SlackCalls } from './web-api.js';

/** Connects to the VM and reads what is live there (`/gitspaces status <vm>`). */
export type ProbeVm = (target: RunTarget) => Promise<VmStatus>;

/** Runs the engine in plan mode against the VM, telling `reporter` (`/gitspaces plan <vm>`). */
export type PlanVm = (
  input: { runId: string; target: RunTarget; requester: string },
  reporter: Reporter,
) => Promise<RunResult>;

/** Connects to the VM and reads a container's last lines, redacted (`/gitspaces logs <vm> runner|delegate`). */
export type LogsVm = (target: RunTarget, request: LogsRequest) => Promise<ContainerLogs>;

/** prom-client's Registry fits. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

/** The watched VMs and their last probes (commands, the App Home), and forgetting one's schedule. */
export interface AppWatch {
  store: WatchStore;
  unschedule(vm: string): Promise<void>;
}

export interface AppContext {
  config: Config;
  runs: RunService;
  access: AccessPolicy;
  /** Web API calls made while a person waits (lookups, a plan's messages), retried within a deadline. */
  calls: SlackCalls;
  /** Runs' messages: the only writer of parents, thread replies and their edits. */
  delivery: SlackDelivery;
  log: Log;
  probeVm: ProbeVm | undefined;
  planVm: PlanVm | undefined;
  watch: AppWatch;
  logsVm: LogsVm | undefined;
}
