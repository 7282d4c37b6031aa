/** What `/gitspaces <text>` asks for, as the parser reads it. */
import type { LogsContainer } from '../../setup/container-logs.js';
import type { VmRef } from '../../setup/ports.js';

export type Command =
  | { kind: 'setup'; vms: VmRef[] }
  /** Images as typed: a bare tag keeps the configured repository (the worker resolves it). */
  | { kind: 'upgrade'; vms: VmRef[]; images: { delegate?: string; runner?: string } }
  | { kind: 'setup-modal' }
  | { kind: 'status'; vm: VmRef | undefined }
  | { kind: 'plan'; vm: VmRef }
  | { kind: 'cancel'; vm: VmRef }
  | { kind: 'logs'; vm: VmRef; container: LogsContainer; lines: number }
  | { kind: 'watch' }
  | { kind: 'mute'; vm: VmRef; forMs: number }
  | { kind: 'unmute'; vm: VmRef }
  | { kind: 'forget'; vm: VmRef }
  | { kind: 'help' }
  /** Something to tell the user, with the usage. Nothing is started. */
  | { kind: 'invalid'; problem: string };

export interface VmDefaults {
  project: string | undefined;
  zone: string | undefined;
}
