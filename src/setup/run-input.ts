import type { ApprovalGate, Clock, Connector, Journal, Reporter } from './ports.js';
import type { PreflightDeps, SetupTarget } from './preflight.js';
import type { Redactor } from './redactor.js';
import type { SetupSettings } from './settings.js';

export interface RunInput {
  runId: string;
  mode: 'setup' | 'plan';
  target: SetupTarget;
  settings: SetupSettings;
  /** SSH port for VMs found through the Compute API. */
  sshPort: number;
  address: 'internal' | 'external';
}

export interface EngineDeps extends Omit<PreflightDeps, 'redactor'> {
  connect: Connector;
  reporter: Reporter;
  gate: ApprovalGate;
  journal: Journal;
  clock: Clock;
  signal?: AbortSignal;
  /** Attempts per step when the connection drops or times out (reconnecting in between). */
  attempts?: number;
  /** Shared with the caller so that it can redact its own logs too. */
  redactor?: Redactor;
}
