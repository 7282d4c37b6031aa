/**
 * Every key the bot keeps in Redis, all under QUEUE_PREFIX so that several bots can share one Redis
 * (BullMQ's own keys use the same prefix: `<prefix>:setup:…`).
 */
export const SETUP_QUEUE = 'setup';

export interface RunKeys {
  run(runId: string): string;
  audit(runId: string): string;
  allRuns: string;
  channelRuns(channel: string): string;
  /** The run holding the VM; exists only while that run is not finished. */
  vmActive(vm: string): string;
  vmLast(vm: string): string;
  hostKey(vm: string): string;
  /** BullMQ's hash of the run's job (`<prefix>:<queue>:<job id>`). */
  job(runId: string): string;
}

export function runKeys(prefix: string): RunKeys {
  return {
    run: (runId) => `${prefix}:run:${runId}`,
    audit: (runId) => `${prefix}:run:${runId}:audit`,
    allRuns: `${prefix}:runs`,
    channelRuns: (channel) => `${prefix}:runs:channel:${channel}`,
    vmActive: (vm) => `${prefix}:vm:${vm}:active`,
    vmLast: (vm) => `${prefix}:vm:${vm}:last`,
    hostKey: (vm) => `${prefix}:vm:${vm}:host-key`,
    job: (runId) => `${prefix}:${SETUP_QUEUE}:${runId}`,
  };
}
