/**
 * The VM's CPUs and memory, as Docker sees them. The delegate may take up to 2 GB (`--memory=2g`, as in
 * Harness's install command) and the runner, dockerd and the system need some beside it: on a smaller VM
 * (e2-micro, e2-small) the kernel kills the delegate under load, and each kill cuts short what it was doing.
 */

export interface VmSize {
  cpus: number;
  memoryBytes: number;
}

const GB = 2 ** 30;

/** Below this the delegate's 2 GB and the rest do not fit: e2-medium (4 GB) is the smallest that does. */
export const MIN_MEMORY_BYTES = 3 * GB;

export const tooSmall = (s: VmSize): boolean => s.memoryBytes < MIN_MEMORY_BYTES;

/** "2 CPUs, 7.8 GB of memory" (GB as Google counts them for machine types: 2^30 bytes). */
export const describeSize = (s: VmSize): string =>
  `${s.cpus} CPU${s.cpus === 1 ? '' : 's'}, ${(s.memoryBytes / GB).toFixed(1)} GB of memory`;

/** Said wherever the VM is found too small, with the fix. */
export const SMALL_VM =
  "less than the delegate's 2 GB and the runner need: the kernel will kill the delegate under load. Use a machine type with at least 4 GB of memory (e2-medium or larger)";

/** `<cpus> <memory bytes>` as `docker info` prints them; undefined when it does not read as such. */
export function parseSize(cpus: string | undefined, memory: string | undefined): VmSize | undefined {
  const size = { cpus: Number(cpus), memoryBytes: Number(memory) };
  return Number.isInteger(size.cpus) && size.cpus > 0 && size.memoryBytes > 0 ? size : undefined;
}
