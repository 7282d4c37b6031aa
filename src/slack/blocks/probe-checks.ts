import { ENABLE_FIX, NOT_AT_BOOT } from '../../setup/docker-boot.js';
import { DISK_FULL_PERCENT, describeDisk } from '../../setup/docker-disk.js';
import { type ContainerStatus, restartsOf, TOKEN_REFUSED, type VmStatus } from '../../setup/probe.js';
import { describeSize, SMALL_VM, tooSmall } from '../../setup/vm-memory.js';
import type { ProbeCheck } from './status-message.js';

function container(id: string, title: string, c: ContainerStatus): ProbeCheck {
  if (c.state === undefined) return { id, title, ok: false, detail: `${c.name} is not there` };
  return {
    id,
    title,
    ok: c.state.status === 'running',
    detail: `${c.name} ${c.state.status} (${c.state.image})${restartsOf(c.state)}`,
  };
}

/** The live state of a VM as the checks `/gitspaces status <vm>` shows. */
export function probeChecks(status: VmStatus): ProbeCheck[] {
  return [
    {
      id: 'docker',
      title: 'Docker Engine',
      ok: status.docker !== undefined,
      detail: status.docker === undefined ? 'not answering' : `Docker ${status.docker}`,
    },
    ...(status.size === undefined
      ? []
      : [
          {
            id: 'vm-size',
            title: 'VM size',
            ok: !tooSmall(status.size),
            detail: `${describeSize(status.size)}${tooSmall(status.size) ? `: ${SMALL_VM}` : ''}`,
          },
        ]),
    ...(status.dockerAtBoot === undefined
      ? []
      : [
          {
            id: 'docker-boot',
            title: 'Docker at boot',
            ok: status.dockerAtBoot,
            detail: status.dockerAtBoot ? 'docker.service enabled' : `${NOT_AT_BOOT}. ${ENABLE_FIX}`,
          },
        ]),
    ...(status.disk
      ? [
          {
            id: 'disk',
            title: 'Disk of Docker data',
            ok: status.disk.usedPercent < DISK_FULL_PERCENT,
            detail: describeDisk(status.disk),
          },
        ]
      : []),
    {
      id: 'network',
      title: 'Docker network',
      ok: status.network,
      detail: status.network ? 'present' : 'absent',
    },
    container('runner', 'VM runner', status.runner),
    {
      id: 'runner-health',
      title: 'VM runner health',
      ok: status.runner.healthy,
      detail: status.runner.healthy ? '/healthz answers' : '/healthz does not answer',
    },
    container('delegate', 'Harness delegate', status.delegate),
    {
      id: 'delegate-health',
      title: 'Harness delegate health',
      ok: status.delegate.healthy,
      detail: status.delegate.healthy
        ? '/api/health answers'
        : status.delegate.tokenRefused
          ? TOKEN_REFUSED
          : 'not healthy',
    },
    ...(status.delegateAge
      ? [
          {
            id: 'delegate-age',
            title: 'Harness delegate image age',
            ok: !status.delegateAge.stale,
            detail: status.delegateAge.text,
          },
        ]
      : []),
  ];
}
