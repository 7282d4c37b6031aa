import { delegateAdvice } from './delegate-age.js';
import type { SetupTarget } from './preflight.js';
import { probeVm, type VmStatus } from './probe.js';
import type { Redactor } from './redactor.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';
import { connectToVm } from './vm-connection.js';

export type StatusDeps = Pick<EngineDeps, 'secrets' | 'vms' | 'pinFor' | 'needsPublishedKeys' | 'connect'> &
  Partial<Pick<EngineDeps, 'clock' | 'delegateVersions'>>;

/** Connects with the pinned host key and reports what is live on the VM. Needs only the SSH key. */
export async function vmStatus(
  target: SetupTarget,
  settings: SetupSettings,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: StatusDeps,
  redactor: Redactor,
): Promise<VmStatus> {
  const remote = await connectToVm(target, settings, ssh, deps, async () => {
    const privateKey = await deps.secrets.read(settings.secretRefs.sshKey);
    redactor.add(privateKey);
    return privateKey;
  });
  let status: VmStatus;
  try {
    status = await probeVm(remote, settings, redactor);
  } finally {
    await remote.close();
  }
  const image = status.delegate.state?.image;
  if (image === undefined || !deps.clock) return status;
  const latest = await deps.delegateVersions?.latestSupported().catch(() => undefined);
  return { ...status, delegateAge: delegateAdvice(image, deps.clock.now(), settings.vm, latest) };
}
