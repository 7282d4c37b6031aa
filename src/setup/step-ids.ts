/** The steps of a setup run, in order. The ids are part of the contract: Slack, the CLI and status show them. */
export const STEP_IDS = [
  'preflight',
  'connect',
  'docker',
  'pool-file',
  'network',
  'runner',
  'runner-health',
  'approval',
  'delegate',
  'delegate-health',
] as const;

export type StepId = (typeof STEP_IDS)[number];

export const STEP_TITLES: Record<StepId, string> = {
  preflight: 'VM, host keys, secrets and pool file',
  connect: 'SSH session with the pinned host key',
  docker: 'Docker Engine',
  'pool-file': 'Runner pool file',
  network: 'Docker network',
  runner: 'VM runner container',
  'runner-health': 'VM runner health',
  approval: 'Approval to install the delegate',
  delegate: 'Harness delegate container',
  'delegate-health': 'Harness delegate health',
};

/** How a step shows in a checklist. The words are part of the contract. */
export type StepState = 'pending' | 'running' | 'done' | 'unchanged' | 'waiting' | 'failed' | 'cancelled';

/** Final and in-between states of a run, as `/gitspaces status` shows them. */
export type RunState =
  | 'queued'
  | `running:${StepId}`
  | 'awaiting-approval'
  | 'succeeded'
  | `failed:${StepId}`
  | 'rejected'
  | 'expired'
  | 'cancelled';
