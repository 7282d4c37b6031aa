/**
 * The filesystem Docker keeps images, containers and their logs on. A full disk is what stops a VM that was
 * healthy for weeks: pulls fail, and the delegate and the runner's database can no longer write.
 */

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

/** df's POSIX line for the filesystem holding `dir`; undefined when it does not read as one. */
export function parseDf(line: string, dir: string): DockerDisk | undefined {
  // Filesystem 1024-blocks Used Available Capacity Mounted-on (POSIX `df -P`; the mount may hold spaces).
  const fields = line.trim().split(/\s+/);
  const available = Number(fields[3]);
  const used = /^(\d+)%$/.exec(fields[4] ?? '')?.[1];
  if (fields.length < 6 || !Number.isFinite(available) || used === undefined) return undefined;
  return { dir, mount: fields.slice(5).join(' '), usedPercent: Number(used), freeBytes: available * 1024 };
}

const size = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.floor(bytes / 1e6)} MB`;

/** "93% used, 0.7 GB free (/ holds Docker's /var/lib/docker)". */
export const describeDisk = (d: DockerDisk): string =>
  `${d.usedPercent}% used, ${size(d.freeBytes)} free (${d.mount} holds Docker's ${d.dir})`;
