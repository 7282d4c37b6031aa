import { GitspacesError } from '../errors.js';
import { delegateAdvice } from './delegate-age.js';
import type { HostKey } from './ports.js';
import type { SetupTarget } from './preflight.js';
import { lastLogLines, probeVm, type VmStatus } from './probe.js';
import type { Redactor } from './redactor.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';
import { VmShell } from './vm-shell.js';

export type StatusDeps = Pick<EngineDeps, 'secrets' | 'vms' | 'pinFor' | 'needsPublishedKeys' | 'connect'> &
  Partial<Pick<EngineDeps, 'clock' | 'delegateVersions'>>;

export interface StatusOptions {
  /**
   * Host keys the VM published at an earlier look (the watch keeps them): used instead of reading its guest
   * attributes again, which are read once more only when the VM offers another key.
   */
  published?: HostKey[] | undefined;
  /** With this many last log lines of each container that is not healthy, redacted. */
  logLines?: number;
}

/** Every secret a container's log could print, registered before any log line is read. */
async function redactSecrets(settings: SetupSettings, deps: StatusDeps, redactor: Redactor): Promise<void> {
  const refs = settings.secretRefs;
  const read = (ref: string | undefined) =>
    ref === undefined ? Promise.resolve(undefined) : deps.secrets.read(ref).catch(() => undefined);
  const values = await Promise.all([read(refs.delegateToken), read(refs.pool), read(refs.runnerSaKey)]);
  for (const value of values) redactor.add(value?.toString('utf8').replace(/[\r\n]+$/, ''));
}

/** Where to connect, and the keys the VM publishes (read now unless `known` are given). */
async function locate(
  target: SetupTarget,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: StatusDeps,
  known: HostKey[] | undefined,
): Promise<{ host: string; port: number; published: HostKey[] | undefined }> {
  if (target.kind !== 'vm') return { host: target.host, port: target.port, published: undefined };
  if (!deps.vms)
    throw new GitspacesError(
      'CONFIG_INVALID',
      'No VM locator is configured: give --host or set GCP_PROJECT.',
    );
  const readKeys = deps.needsPublishedKeys && known === undefined;
  const vm = await deps.vms.locate(target.ref, { address: ssh.address, hostKeys: readKeys });
  return { host: vm.address, port: ssh.port, published: readKeys ? vm.hostKeys : known };
}

/**
 * Connects with the pinned host key and reports what is live on the VM, with the host keys it was pinned
 * to. Needs only the SSH key.
 */
export async function vmStatus(
  target: SetupTarget,
  settings: SetupSettings,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: StatusDeps,
  redactor: Redactor,
  options: StatusOptions = {},
): Promise<VmStatus & { published?: HostKey[] | undefined; logs?: Record<string, string> }> {
  const privateKey = await deps.secrets.read(settings.secretRefs.sshKey);
  redactor.add(privateKey);
  const open = async (known: HostKey[] | undefined) => {
    const { host, port, published } = await locate(target, ssh, deps, known);
    const pin = await deps.pinFor({ vm: settings.vm, host, port, published });
    const { remote } = await deps.connect({ host, port, user: settings.sshUser, privateKey, pin });
    return { remote, published };
  };
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(options.published);
  } catch (error) {
    // The VM offers a key other than the ones kept: its guest attributes say whether it changed them.
    const stale =
      options.published !== undefined && (error as { code?: string }).code === 'HOST_KEY_MISMATCH';
    if (!stale) throw error;
    opened = await open(undefined);
  }
  const { remote, published } = opened;
  let status: VmStatus & { logs?: Record<string, string> };
  try {
    status = await probeVm(remote, settings, redactor);
    const ailing = [status.runner, status.delegate].filter((c) => c.state !== undefined && !c.healthy);
    if (options.logLines !== undefined && ailing.length > 0) {
      await redactSecrets(settings, deps, redactor);
      const vm = new VmShell(remote, redactor);
      const logs: Record<string, string> = {};
      for (const c of ailing) logs[c.name] = await lastLogLines(vm, redactor, c.name, options.logLines);
      status = { ...status, logs };
    }
  } finally {
    await remote.close();
  }
  const image = status.delegate.state?.image;
  if (image === undefined || !deps.clock) return { ...status, published };
  const latest = await deps.delegateVersions?.latestSupported().catch(() => undefined);
  return { ...status, published, delegateAge: delegateAdvice(image, deps.clock.now(), settings.vm, latest) };
}
