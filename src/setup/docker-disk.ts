/**
 * Docker's version, whether it starts at boot, and the filesystem it keeps images, containers and their logs
 * on, read in one command. A full disk is what stops a VM that was healthy for weeks: pulls fail, and the
 * delegate and the runner's database can no longer write.
 */
import { BOOT_STATE_COMMAND, startsAtBoot } from './docker-boot.js';
import { command } from './shell.js';

export interface DockerDisk {
  /** Docker's data root (`DockerRootDir`). */
  dir: string;
  /** Where the filesystem holding it is mounted. */
  mount: string;
  /** As `df` rounds it (up). */
  usedPercent: number;
  freeBytes: number;
}

/** From here on the watch tells the channel, once, until the disk goes below it again. */
export const DISK_FULL_PERCENT = 90;

/**
 * Prints `<version> <data root>`, systemd's word on Docker at boot (maybe empty), then df's line for the data
 * root (nothing when Docker does not answer).
 */
export const DOCKER_INFO_SCRIPT = [
  `i=$(docker info --format '{{.ServerVersion}} {{.DockerRootDir}}' 2>/dev/null) || exit 1`,
  `printf '%s\\n' "$i" "$(${command(...BOOT_STATE_COMMAND)} 2>/dev/null)"`,
  `df -Pk "\${i#* }" 2>/dev/null | tail -n 1`,
].join('\n');

export interface DockerInfo {
  version: string | undefined;
  /** false when docker.service is disabled (see docker-boot.ts). */
  atBoot?: boolean;
  disk?: DockerDisk;
}

export function parseDockerInfo(stdout: string): DockerInfo {
  const [info = '', boot = '', df = ''] = stdout.split('\n');
  const [version = '', ...rest] = info.trim().split(' ');
  if (version === '') return { version: undefined };
  const atBoot = startsAtBoot(boot);
  const known = atBoot === undefined ? {} : { atBoot };
  // Filesystem 1024-blocks Used Available Capacity Mounted-on (POSIX `df -P`; the mount may hold spaces).
  const fields = df.trim().split(/\s+/);
  const available = Number(fields[3]);
  const used = /^(\d+)%$/.exec(fields[4] ?? '')?.[1];
  if (fields.length < 6 || !Number.isFinite(available) || used === undefined) return { version, ...known };
  const disk = {
    dir: rest.join(' '),
    mount: fields.slice(5).join(' '),
    usedPercent: Number(used),
    freeBytes: available * 1024,
  };
  return { version, ...known, disk };
}

const size = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.floor(bytes / 1e6)} MB`;

/** "93% used, 0.7 GB free (/ holds Docker's /var/lib/docker)". */
export const describeDisk = (d: DockerDisk): string =>
  `${d.usedPercent}% used, ${size(d.freeBytes)} free (${d.mount} holds Docker's ${d.dir})`;
