import { GitspacesError } from '../errors.js';
import { delegateAdvice } from './delegate-age.js';
import type { HostKey } from './ports.js';
import type { SetupTarget } from './preflight.js';
import { probeVm, type VmStatus } from './probe.js';
import type { Redactor } from './redactor.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';

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
  let host: string;
  let port = ssh.port;
  let published: HostKey[] | undefined;
  if (target.kind === 'vm') {
    if (!deps.vms)
      throw new GitspacesError(
        'CONFIG_INVALID',
        'No VM locator is configured: give --host or set GCP_PROJECT.',
      );
    const vm = await deps.vms.locate(target.ref, { address: ssh.address, hostKeys: deps.needsPublishedKeys });
    host = vm.address;
    published = vm.hostKeys;
  } else {
    host = target.host;
    port = target.port;
  }
  const privateKey = await deps.secrets.read(settings.secretRefs.sshKey);
  redactor.add(privateKey);
  const pin = await deps.pinFor({ vm: settings.vm, host, port, published });
  const { remote } = await deps.connect({ host, port, user: settings.sshUser, privateKey, pin });
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
