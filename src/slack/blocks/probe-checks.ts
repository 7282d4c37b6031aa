import type { AgeAdvice } from '../../setup/delegate-age.js';
import { ENABLE_FIX, NOT_AT_BOOT } from '../../setup/docker-boot.js';
import { DISK_FULL_PERCENT, type DockerDisk, describeDisk } from '../../setup/docker-disk.js';
import { type ContainerStatus, healthOf, troubleOf, type VmStatus } from '../../setup/probe.js';
import { describeWithFix, ERRORS_WINDOW } from '../../setup/runner-errors.js';
import { describeSize, SMALL_VM, tooSmall, type VmSize } from '../../setup/vm-memory.js';
import type { ProbeCheck } from './status-message.js';

function container(id: string, title: string, c: ContainerStatus): ProbeCheck {
  if (c.state === undefined) return { id, title, ok: false, detail: `${c.name} is not there` };
  return {
    id,
    title,
    ok: c.state.status === 'running',
    detail: `${c.name} ${c.state.status} (${c.state.image})${troubleOf(c)}`,
  };
}

// Each of these is shown only when the probe could tell (Docker answered, systemd runs, df answered…).

function sizeCheck(size: VmSize | undefined): ProbeCheck[] {
  if (size === undefined) return [];
  const small = tooSmall(size);
  const detail = small ? `${describeSize(size)}: ${SMALL_VM}` : describeSize(size);
  return [{ id: 'vm-size', title: 'VM size', ok: !small, detail }];
}

function bootCheck(atBoot: boolean | undefined): ProbeCheck[] {
  if (atBoot === undefined) return [];
  const detail = atBoot ? 'docker.service enabled' : `${NOT_AT_BOOT}. ${ENABLE_FIX}`;
  return [{ id: 'docker-boot', title: 'Docker at boot', ok: atBoot, detail }];
}

function diskCheck(disk: DockerDisk | undefined): ProbeCheck[] {
  if (disk === undefined) return [];
  const ok = disk.usedPercent < DISK_FULL_PERCENT;
  return [{ id: 'disk', title: 'Disk of Docker data', ok, detail: describeDisk(disk) }];
}

/** Asked of a running runner only: its /healthz says OK even while it fails to create Gitspace VMs. */
function errorsCheck(status: VmStatus): ProbeCheck[] {
  if (status.runner.state?.status !== 'running') return [];
  const e = status.runnerErrors;
  const detail = e ? describeWithFix(e) : `no error logged in ${ERRORS_WINDOW}`;
  return [{ id: 'runner-errors', title: 'VM runner errors', ok: e === undefined, detail }];
}

function ageCheck(age: AgeAdvice | undefined): ProbeCheck[] {
  if (age === undefined) return [];
  return [{ id: 'delegate-age', title: 'Harness delegate image age', ok: !age.stale, detail: age.text }];
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
    ...sizeCheck(status.size),
    ...bootCheck(status.dockerAtBoot),
    ...diskCheck(status.disk),
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
    ...errorsCheck(status),
    container('delegate', 'Harness delegate', status.delegate),
    {
      id: 'delegate-health',
      title: 'Harness delegate health',
      ok: status.delegate.healthy,
      detail: status.delegate.healthy ? '/api/health answers' : healthOf(status.delegate),
    },
    ...ageCheck(status.delegateAge),
  ];
}
