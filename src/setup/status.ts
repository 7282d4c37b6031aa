import { readLogs } from './container-logs.js';
import { delegateAdvice } from './delegate-age.js';
import { registerKnownSecrets } from './known-secrets.js';
import type { HostKey, RemoteHost } from './ports.js';
import type { SetupTarget } from './preflight.js';
import { probeVm, type VmStatus } from './probe.js';
import type { Redactor } from './redactor.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';
import { connectToVm } from './vm-connection.js';
import { VmShell } from './vm-shell.js';

export type StatusDeps = Pick<
  EngineDeps,
  'secrets' | 'vms' | 'pinFor' | 'needsPublishedKeys' | 'connect' | 'keys'
> &
  Partial<Pick<EngineDeps, 'clock' | 'delegateVersions'>>;

export interface StatusOptions {
  /** Host keys the VM published at an earlier look (the watch keeps them), instead of reading them again. */
  published?: HostKey[] | undefined;
  /** Who logged in at an earlier look (the watch keeps it), tried before SSH_USER. */
  user?: string | undefined;
  /** With this many last log lines of each container that is not healthy, redacted. */
  logLines?: number;
}

export type LiveStatus = VmStatus & {
  published?: HostKey[] | undefined;
  /** Who logged in. */
  user?: string;
  logs?: Record<string, string>;
};

/**
 * The last lines of each container that is there but not healthy. Every secret the bot holds for the VM
 * is registered first; when one cannot be read, no log is shown (what cannot be read cannot be masked).
 */
async function ailingLogs(
  remote: RemoteHost,
  status: VmStatus,
  settings: SetupSettings,
  deps: StatusDeps,
  redactor: Redactor,
  lines: number,
): Promise<Record<string, string> | undefined> {
  const ailing = [status.runner, status.delegate].filter((c) => c.state !== undefined && !c.healthy);
  if (ailing.length === 0) return undefined;
  const known = await registerKnownSecrets(settings.secretRefs, deps.secrets, redactor).catch(
    () => undefined,
  );
  if (known === undefined) return undefined;
  const shell = new VmShell(remote, redactor);
  const logs: Record<string, string> = {};
  for (const c of ailing)
    logs[c.name] = redactor.redact(
      await readLogs(shell, settings.vm, c.name, lines).catch((e: unknown) => String(e)),
    );
  return logs;
}

/**
 * Connects with the pinned host key and reports what is live on the VM, with the host keys it was pinned
 * to. Needs only the SSH key (and the other secrets when log lines are asked for).
 */
export async function vmStatus(
  target: SetupTarget,
  settings: SetupSettings,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: StatusDeps,
  redactor: Redactor,
  options: StatusOptions = {},
): Promise<LiveStatus> {
  const readKey = async () => {
    const privateKey = await deps.secrets.read(settings.secretRefs.sshKey);
    redactor.add(privateKey);
    return privateKey;
  };
  const { remote, published, user } = await connectToVm(target, settings, ssh, deps, readKey, {
    keys: options.published,
    user: options.user,
  });
  let status: LiveStatus;
  try {
    status = { ...(await probeVm(remote, settings, redactor)), published, user };
    if (options.logLines !== undefined) {
      const logs = await ailingLogs(remote, status, settings, deps, redactor, options.logLines);
      if (logs !== undefined) status.logs = logs;
    }
  } finally {
    await remote.close();
  }
  const image = status.delegate.state?.image;
  if (image === undefined || !deps.clock) return status;
  const latest = await deps.delegateVersions?.latestSupported().catch(() => undefined);
  return { ...status, delegateAge: delegateAdvice(image, deps.clock.now(), settings.vm, latest) };
}
