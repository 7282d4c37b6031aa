/**
 * The interfaces the setup engine works through. Adapters (ssh2, Google clients, Slack, BullMQ, the
 * terminal) implement them; the engine imports none of them.
 */
import type { StepId, StepState } from './step-ids.js';

export interface ExecOptions {
  /** Kills the command (and fails with COMMAND_TIMEOUT) after this long. */
  timeoutMs?: number;
  /** Streamed stdout+stderr as it arrives (not yet redacted). */
  onOutput?: (chunk: string) => void;
  /**
   * Text the command reads on its stdin (otherwise it reads nothing): how file content, secrets included,
   * reaches a command without being part of any process's argv. Lines of base64, say (see `stdinFile`).
   */
  stdin?: string;
}

export interface ExecResult {
  /** Exit code, or null when the command ended by a signal. */
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** What an HTTP GET on the VM's loopback answered. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** One SSH session to a VM. Commands run through the user's login shell (`sh -c`). */
export interface RemoteHost {
  readonly user: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * `GET http://127.0.0.1:<port><path>` as the VM sees it, through the SSH connection itself (no tool on
   * the VM needed). Undefined when nothing answers there; throws FORWARDING_REFUSED when the VM's sshd
   * does not forward (`AllowTcpForwarding no`). Hosts that cannot forward leave it out.
   */
  httpGet?(port: number, path: string, timeoutMs: number): Promise<HttpAnswer | undefined>;
  /** Writes a file over SFTP with the given mode (the file is created with that mode, never wider). */
  putFile(path: string, content: string | Buffer, mode: number): Promise<void>;
  close(): Promise<void>;
}

/** An SSH host public key: `type` like `ssh-ed25519`, `base64` the key blob as in known_hosts. */
export interface HostKey {
  type: string;
  base64: string;
}

/** Decides whether a host key the VM offered is the pinned one. */
export interface HostKeyPin {
  /** Resolves to the accepted key's fingerprint, or throws HOST_KEY_MISMATCH / HOST_KEY_UNKNOWN. */
  verify(offered: HostKey): Promise<void>;
  /** Fingerprints (SHA256:…) that would be accepted, for messages. */
  expected(): string[];
  /**
   * Key types the pin holds (`ssh-ed25519`, `ssh-rsa`, …). The client asks the server for these first, as
   * OpenSSH does with known_hosts: a VM with several host keys otherwise offers one that was never pinned.
   */
  keyTypes?(): Promise<string[]>;
}

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  pin: HostKeyPin;
  /** Milliseconds to wait for the SSH handshake. */
  readyTimeoutMs?: number;
  /** The VM by name, for a proxy command that reaches it by name (IAP) rather than by address. */
  vm?: { name: string; zone?: string; project?: string };
}

export interface ConnectedHost {
  remote: RemoteHost;
  /** The host key the VM offered and the pin accepted. */
  hostKey: HostKey;
  /** How the connection reaches the VM when not directly (`through SSH_PROXY_COMMAND`). */
  via?: string;
}

export type Connector = (options: ConnectOptions) => Promise<ConnectedHost>;

/** A secret reference: a Secret Manager name (`name`, `name@version`, full path), `file:/path` or `env:VAR`. */
export interface SecretSource {
  read(reference: string): Promise<Buffer>;
}

export interface VmRef {
  project: string | undefined;
  zone: string | undefined;
  name: string;
}

export interface LocatedVm {
  project: string;
  zone: string;
  name: string;
  address: string;
  /** Every host key the VM publishes; any one may match. */
  hostKeys: HostKey[];
}

/** Finds a VM (Compute API in production). Throws VM_NOT_FOUND, VM_NOT_RUNNING, HOST_KEYS_UNPUBLISHED, … */
export interface VmLocator {
  locate(ref: VmRef, options: { address: 'internal' | 'external'; hostKeys: boolean }): Promise<LocatedVm>;
}

/**
 * Lets the bot's key in on a VM found through Google once the VM refused it: GCE's `ssh-keys` metadata,
 * which the VM's guest agent applies within seconds, or with OS Login on, the OS Login profile of the bot's
 * own identity. Throws SSH_AUTH_FAILED saying what to do by hand when it cannot (no permission, no identity).
 */
export interface KeyAccess {
  /**
   * Where the key stands, and the user it logs in as (SSH_USER, or the OS Login profile's POSIX user):
   * `added` now, or `present` already. Undefined: absent, and `write` did not allow adding it.
   */
  letIn(
    vm: { project: string; zone: string; name: string },
    user: string,
    privateKey: Buffer,
    write: boolean,
  ): Promise<KeyPlace | undefined>;
}

export interface KeyPlace {
  how: 'added' | 'present';
  /** Who logs in with the key there. */
  user: string;
  /** Where the key is, for people: "the VM's ssh-keys metadata", "the OS Login profile of bot@…". */
  place: string;
  /** What usually keeps a VM refusing a key that is in this place, and its fix; undefined: the guest agent. */
  stillRefused?: string;
}

/** Keys learned on first use (`SSH_HOST_KEY_POLICY=tofu`), one per VM. */
export interface HostKeyStore {
  /** Records `key` for `vm` unless one is recorded; returns the recorded key. */
  remember(vm: string, key: HostKey): Promise<HostKey>;
  recall(vm: string): Promise<HostKey | undefined>;
}

export interface ApprovalRequest {
  runId: string;
  vm: string;
  hostKeyFingerprint: string;
  delegateName: string;
  delegateImage: string;
  accountId: string;
  tags: string;
  expiresAt: number;
  /** Old → new per container (`vm-runner: image a → b`), when the run would stop or replace one. */
  changes?: string[];
  /** "delegate 25.03.85504 is 21 months old: …", for the image being installed. */
  delegateAge?: string;
}

/** Harness's latest supported delegate version for the account (`YY.MM.build`), undefined when unknown. */
export interface DelegateVersions {
  latestSupported(): Promise<string | undefined>;
}

export type ApprovalDecision =
  | { kind: 'approved'; by: string; at: number }
  | { kind: 'rejected'; by: string; at: number }
  | { kind: 'expired' }
  | { kind: 'cancelled'; by: string; at: number }
  | { kind: 'pending' };

/** Asks for (or looks up) the decision on installing the delegate. */
export interface ApprovalGate {
  decide(request: ApprovalRequest): Promise<ApprovalDecision>;
}

export interface StepRecord {
  id: StepId;
  state: StepState;
  durationMs: number | undefined;
  /** One line on what the step found or did; redacted. */
  summary: string | undefined;
}

export interface JournalState {
  /** The step the run is in (or was in when it stopped). */
  step: StepId | undefined;
  steps: Partial<Record<StepId, StepRecord>>;
  approvalRequestedAt: number | undefined;
}

/** Where the engine keeps its place, so that a run can resume at the step it was in. */
export interface Journal {
  load(): Promise<JournalState | undefined>;
  save(state: JournalState): Promise<void>;
}

export interface ReportedError {
  code: string;
  message: string;
  /** A redacted log tail or other detail. */
  detail: string | undefined;
  /** Whether another attempt could succeed (a dropped connection) or not (a bad pool file). */
  retryable: boolean;
}

export interface RunResult {
  runId: string;
  vm: string;
  state: 'succeeded' | 'failed' | 'rejected' | 'expired' | 'cancelled' | 'awaiting-approval';
  /** The step the run ended (or stopped) at. */
  step: StepId | undefined;
  steps: StepRecord[];
  error: ReportedError | undefined;
  /** True when every step was already in place. */
  unchanged: boolean;
}

/** Everything a person watching the run sees. All text reaching a reporter is already redacted. */
export interface Reporter {
  runStarted(info: {
    runId: string;
    vm: string;
    mode: 'setup' | 'plan';
    resumed: boolean;
  }): void | Promise<void>;
  stepStarted(id: StepId): void | Promise<void>;
  stepOutput?(id: StepId, text: string): void | Promise<void>;
  stepFinished(record: StepRecord): void | Promise<void>;
  stepFailed(record: StepRecord, error: ReportedError): void | Promise<void>;
  approvalRequested(request: ApprovalRequest): void | Promise<void>;
  runFinished(result: RunResult): void | Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
