import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeDisk } from '../../src/setup/docker-disk.js';
import { DOCKER_INFO_SCRIPT, parseDockerInfo } from '../../src/setup/docker-info.js';
import { describeSize, tooSmall } from '../../src/setup/vm-memory.js';

const GB = 2 ** 30;
/** `docker info`'s line as the script asks for it: version, CPUs, memory in bytes, data root. */
const info = (root = '/var/lib/docker', memory = 8 * GB) => `28.2.2 2 ${memory} ${root}`;

describe("Docker, the VM's size, Docker at boot and the disk of Docker's data, in one command", () => {
  it('reads the version, the size, the mount and how full it is', () => {
    const { version, size, disk } = parseDockerInfo(
      `${info()}\nenabled\n/dev/sda1 10255636 9432124 823512 92% /\n`,
    );
    expect(version).toBe('28.2.2');
    expect(size).toEqual({ cpus: 2, memoryBytes: 8 * GB });
    expect(describeSize(size as never)).toBe('2 CPUs, 8.0 GB of memory');
    expect(disk).toEqual({ dir: '/var/lib/docker', mount: '/', usedPercent: 92, freeBytes: 823512 * 1024 });
    expect(describeDisk(disk as never)).toBe("92% used, 843 MB free (/ holds Docker's /var/lib/docker)");
  });

  it('keeps a data root and a mount point with spaces whole', () => {
    const { disk } = parseDockerInfo(
      `${info('/mnt/docker data')}\n\n/dev/sdb 100 50 50 50% /mnt/docker data\n`,
    );
    expect(disk?.mount).toBe('/mnt/docker data');
    expect(disk?.dir).toBe('/mnt/docker data');
  });

  it('still knows Docker answers when df could not tell', () => {
    expect(parseDockerInfo(`${info()}\nenabled\n`)).toEqual({
      version: '28.2.2',
      size: { cpus: 2, memoryBytes: 8 * GB },
      atBoot: true,
    });
    expect(parseDockerInfo('')).toEqual({ version: undefined });
  });

  it('finds a VM too small for the delegate below 3 GB of memory: e2-small is, e2-medium is not', () => {
    const small = parseDockerInfo(`${info(undefined, 2_067_914_752)}\n\n`).size;
    expect(small && tooSmall(small)).toBe(true);
    expect(describeSize(small as never)).toBe('2 CPUs, 1.9 GB of memory');
    const medium = parseDockerInfo(`${info(undefined, 4_116_803_584)}\n\n`).size;
    expect(medium && tooSmall(medium)).toBe(false);
  });

  it('knows Docker does not start at boot only when systemd says it is disabled', () => {
    const atBoot = (answer: string) => parseDockerInfo(`${info()}\n${answer}\n`).atBoot;
    expect(atBoot('disabled')).toBe(false);
    expect(atBoot('enabled')).toBe(true);
    // No such unit (Docker from a snap), no systemd, or a unit started otherwise: nothing to say.
    for (const answer of ['', 'static', 'indirect']) expect(atBoot(answer)).toBeUndefined();
  });

  it('says nothing of boot where systemd does not run (a container): nothing boots there', () => {
    const fake = `docker() { printf '%s\\n' '${info('/tmp')}'; }; systemctl() { echo offline; return 1; }; ${DOCKER_INFO_SCRIPT}`;
    expect(parseDockerInfo(execFileSync('sh', ['-c', fake], { encoding: 'utf8' })).atBoot).toBeUndefined();
  });

  it("prints systemd's word and df's POSIX line for the data root in a real sh", () => {
    // A `docker` that answers `info` as the engine does, for this machine's /tmp; a systemd that has it disabled.
    const fake = `docker() { printf '%s\\n' '${info('/tmp')}'; }; systemctl() { case $1 in is-system-running) echo running ;; *) echo disabled; return 1 ;; esac; }; ${DOCKER_INFO_SCRIPT}`;
    const { version, atBoot, disk } = parseDockerInfo(execFileSync('sh', ['-c', fake], { encoding: 'utf8' }));
    expect(version).toBe('28.2.2');
    expect(atBoot).toBe(false);
    expect(disk?.dir).toBe('/tmp');
    expect(disk?.usedPercent).toBeGreaterThanOrEqual(0);
    expect(disk?.usedPercent).toBeLessThanOrEqual(100);
  });
});
