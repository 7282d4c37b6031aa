import type { UpgradeImages } from './change/choose-images.js';
import type {
  ApprovalGate,
  Clock,
  Connector,
  DelegateVersions,
  Journal,
  KeyAccess,
  Reporter,
} from './ports.js';
import type { PreflightDeps, SetupTarget } from './preflight.js';
import type { Redactor } from './redactor.js';
import type { SetupSettings } from './settings.js';

export interface RunInput {
  runId: string;
  mode: 'setup' | 'plan';
  /** An upgrade installs the images it names (or the configured ones) and labels them so setup keeps them. */
  kind?: 'setup' | 'upgrade';
  upgrade?: UpgradeImages;
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
  /** Asks Harness for the latest supported delegate version (with HARNESS_API_KEY_SECRET). */
  delegateVersions?: DelegateVersions;
  /** Adds the bot's key to a VM that refuses it, in setup runs (SSH_AUTHORIZE_KEY=auto); none: never. */
  keys?: KeyAccess;
  /** Shared with the caller so that it can redact its own logs too. */
  redactor?: Redactor;
}
