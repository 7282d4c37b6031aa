/**
 * What `status` and the watch read of Docker in one command: its version, the VM's CPUs and memory as Docker
 * sees them, whether it starts at boot, and the disk holding its data.
 */
import { BOOT_STATE_SCRIPT, startsAtBoot } from './docker-boot.js';
import { type DockerDisk, parseDf } from './docker-disk.js';
import { parseSize, type VmSize } from './vm-memory.js';
import type { VmShell } from './vm-shell.js';

/**
 * Prints `<version> <cpus> <memory bytes> <data root>`, systemd's word on Docker at boot (maybe empty), then
 * df's line for the data root (nothing when Docker does not answer). The data root is last: it may hold spaces.
 */
export const DOCKER_INFO_SCRIPT = [
  `i=$(docker info --format '{{.ServerVersion}} {{.NCPU}} {{.MemTotal}} {{.DockerRootDir}}' 2>/dev/null) || exit 1`,
  `printf '%s\\n' "$i" "$(${BOOT_STATE_SCRIPT})"`,
  `df -Pk "\${i#* * * }" 2>/dev/null | tail -n 1`,
].join('\n');

export interface DockerInfo {
  version: string | undefined;
  size?: VmSize;
  /** false when docker.service is disabled (see docker-boot.ts). */
  atBoot?: boolean;
  disk?: DockerDisk;
}

export function parseDockerInfo(stdout: string): DockerInfo {
  const [info = '', boot = '', df = ''] = stdout.split('\n');
  const [version = '', cpus, memory, ...dir] = info.trim().split(' ');
  if (version === '') return { version: undefined };
  const size = parseSize(cpus, memory);
  const atBoot = startsAtBoot(boot);
  const disk = parseDf(df, dir.join(' '));
  return {
    version,
    ...(size === undefined ? {} : { size }),
    ...(atBoot === undefined ? {} : { atBoot }),
    ...(disk === undefined ? {} : { disk }),
  };
}

/** Reads it all in one command, as root; `version` undefined when Docker does not answer. */
export async function readDockerInfo(vm: VmShell): Promise<DockerInfo> {
  const info = await vm.script(DOCKER_INFO_SCRIPT, { root: true, allowFail: true }, 'docker info');
  return info.code === 0 ? parseDockerInfo(info.stdout) : { version: undefined };
}
