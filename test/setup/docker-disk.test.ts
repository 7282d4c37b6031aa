import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DOCKER_INFO_SCRIPT, describeDisk, parseDockerInfo } from '../../src/setup/docker-disk.js';

describe("the disk of Docker's data, as df tells it", () => {
  it('reads the version, the mount and how full it is', () => {
    const { version, disk } = parseDockerInfo(
      '28.2.2 /var/lib/docker\nenabled\n/dev/sda1 10255636 9432124 823512 92% /\n',
    );
    expect(version).toBe('28.2.2');
    expect(disk).toEqual({ dir: '/var/lib/docker', mount: '/', usedPercent: 92, freeBytes: 823512 * 1024 });
    expect(describeDisk(disk as never)).toBe("92% used, 843 MB free (/ holds Docker's /var/lib/docker)");
  });

  it('keeps a mount point with spaces whole', () => {
    const { disk } = parseDockerInfo('27.3.1 /mnt/docker data\n\n/dev/sdb 100 50 50 50% /mnt/docker data\n');
    expect(disk?.mount).toBe('/mnt/docker data');
    expect(disk?.dir).toBe('/mnt/docker data');
  });

  it('still knows Docker answers when df could not tell', () => {
    expect(parseDockerInfo('28.2.2 /var/lib/docker\nenabled\n')).toEqual({ version: '28.2.2', atBoot: true });
    expect(parseDockerInfo('')).toEqual({ version: undefined });
  });

  it('knows Docker does not start at boot only when systemd says it is disabled', () => {
    const atBoot = (answer: string) => parseDockerInfo(`28.2.2 /var/lib/docker\n${answer}\n`).atBoot;
    expect(atBoot('disabled')).toBe(false);
    expect(atBoot('enabled')).toBe(true);
    // No such unit (Docker from a snap), no systemd, or a unit started otherwise: nothing to say.
    for (const answer of ['', 'static', 'indirect']) expect(atBoot(answer)).toBeUndefined();
  });

  it("prints systemd's word and df's POSIX line for the data root in a real sh", () => {
    // A `docker` that answers `info` as the engine does, for this machine's /tmp; a systemd that has it disabled.
    const fake = `docker() { printf '%s\\n' '28.2.2 /tmp'; }; systemctl() { echo disabled; return 1; }; ${DOCKER_INFO_SCRIPT}`;
    const { version, atBoot, disk } = parseDockerInfo(execFileSync('sh', ['-c', fake], { encoding: 'utf8' }));
    expect(version).toBe('28.2.2');
    expect(atBoot).toBe(false);
    expect(disk?.dir).toBe('/tmp');
    expect(disk?.usedPercent).toBeGreaterThanOrEqual(0);
    expect(disk?.usedPercent).toBeLessThanOrEqual(100);
  });
});
