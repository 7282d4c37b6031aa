/**
 * Prometheus metrics of the bot (`GET /metrics`): runs by state, step durations, queue depth and waiting
 * approvals (read at scrape time), Slack Web API calls and 429s, SSH failures by error code. One Registry
 * per process, passed in: nothing registers into prom-client's global registry.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ProbeObserver } from './watch/probe-job.js';

type Counts = Record<string, number>;
type Source<T> = () => T | Promise<T>;

export interface MetricsOptions {
  /** Job counts by BullMQ state (`queue.getJobCounts()`); can also be given later with `setQueueCounts`. */
  queueCounts?: Source<Counts>;
  /** Runs waiting for an approver; can also be given later with `setWaitingApprovals`. */
  waitingApprovals?: Source<number>;
  /** Node's process metrics (CPU, memory, event loop lag). @defaultValue true */
  processMetrics?: boolean;
}

/** How a step ended, as the checklist words say it. */
export type StepOutcome = 'done' | 'unchanged' | 'failed' | 'cancelled' | 'waiting';

export interface Metrics {
  readonly registry: Registry;
  /** A run entered `state` (`queued`, `succeeded`, `failed:runner`, …); the `:<step>` part is not a label. */
  runState(state: string): void;
  observeStep(step: string, outcome: StepOutcome, seconds: number): void;
  /** Starts timing a step; call the result with its outcome when it ends. */
  startStep(step: string): (outcome: StepOutcome) => void;
  slackCall(method: string): void;
  slackRateLimited(method: string): void;
  sshFailure(code: string): void;
  setQueueCounts(source: Source<Counts>): void;
  setWaitingApprovals(source: Source<number>): void;
  /** The watch's probes and notices. */
  readonly watch: ProbeObserver;
}

/** Seconds: commands take from a fraction of a second to minutes (health waits); approval takes up to a day. */
const STEP_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400];

/** A counter of one label, in `registers`. */
function counter(registers: Registry[], name: string, help: string, label: string) {
  return new Counter({ name, help, labelNames: [label], registers });
}

/** A gauge with a sample per value of one label, in `registers`. */
function gauge(registers: Registry[], name: string, help: string, label: string) {
  return new Gauge({ name, help, labelNames: [label], registers });
}

/** The source's value, or undefined when it throws or rejects. */
async function read<T>(source: Source<T>): Promise<T | undefined> {
  try {
    return await source();
  } catch {
    return undefined;
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  let queueCounts = options.queueCounts;
  let waitingApprovals = options.waitingApprovals;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const runs = counter(registers, 'gitspaces_runs_total', 'Setup runs that entered each state.', 'state');
  const steps = new Histogram({
    name: 'gitspaces_step_duration_seconds',
    help: 'How long each setup step took, by how it ended.',
    labelNames: ['step', 'outcome'],
    buckets: STEP_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'gitspaces_queue_jobs',
    help: 'Jobs in the setup queue by state, read when scraped.',
    labelNames: ['state'],
    registers,
    async collect() {
      // Unknown beats stale: when the queue cannot be read (Redis down), the gauge has no samples.
      this.reset();
      if (queueCounts === undefined) return;
      const counts = await read(queueCounts);
      for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'gitspaces_waiting_approvals',
    help: 'Runs waiting for an approver, read when scraped.',
    registers,
    async collect() {
      const count = waitingApprovals === undefined ? undefined : await read(waitingApprovals);
      // A gauge without labels always has a sample: NaN says "not known" where 0 would be a false answer.
      this.set(count ?? Number.NaN);
    },
  });
  const sshFailures = counter(
    registers,
    'gitspaces_ssh_failures_total',
    'SSH failures by error code.',
    'code',
  );

  return {
    registry,
    watch: watchMetrics(registers),
    runState: (state) => runs.inc({ state: state.split(':')[0] ?? state }),
    observeStep: (step, outcome, seconds) => steps.observe({ step, outcome }, seconds),
    startStep: (step) => {
      const end = steps.startTimer({ step });
      return (outcome) => void end({ outcome });
    },
    ...slackMetrics(registers),
    sshFailure: (code) => sshFailures.inc({ code }),
    setQueueCounts: (source) => {
      queueCounts = source;
    },
    setWaitingApprovals: (source) => {
      waitingApprovals = source;
    },
  };
}

/** The watch's: each VM's health and Docker disk at its last probe, probe times, notices by kind. */
function watchMetrics(registers: Registry[]): ProbeObserver {
  const vmHealthy = gauge(
    registers,
    'gitspaces_vm_healthy',
    'Whether each watched VM was healthy at its last probe (1) or not (0); no sample when it could not be probed.',
    'vm',
  );
  const probeSeconds = new Histogram({
    name: 'gitspaces_vm_probe_seconds',
    help: 'How long a watch probe of a VM took (Google, SSH and the read-only checks).',
    buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 90],
    registers,
  });
  const diskUsed = gauge(
    registers,
    'gitspaces_vm_disk_used_percent',
    "How full the filesystem of Docker's data root was at each watched VM's last probe, as df rounds it.",
    'vm',
  );
  const notices = counter(
    registers,
    'gitspaces_watch_notices_total',
    'Watch notices sent to channels, by kind.',
    'kind',
  );

  return {
    probed(vm, seconds, health, diskPercent) {
      probeSeconds.observe(seconds);
      if (health === 'unreachable') vmHealthy.remove({ vm });
      else vmHealthy.set({ vm }, health === 'healthy' ? 1 : 0);
      if (diskPercent === undefined) diskUsed.remove({ vm });
      else diskUsed.set({ vm }, diskPercent);
    },
    noticed: (kind) => notices.inc({ kind }),
  };
}

/** Web API calls and 429s, by method. */
function slackMetrics(registers: Registry[]): Pick<Metrics, 'slackCall' | 'slackRateLimited'> {
  const slackCalls = counter(
    registers,
    'gitspaces_slack_api_calls_total',
    'Slack Web API calls by method.',
    'method',
  );
  const slackLimited = counter(
    registers,
    'gitspaces_slack_rate_limited_total',
    'Slack Web API calls answered 429 (rate limited), by method.',
    'method',
  );
  return {
    slackCall: (method) => slackCalls.inc({ method }),
    slackRateLimited: (method) => slackLimited.inc({ method }),
  };
}
