/**
 * A pull that fails says Docker's own message and what to do, for what a GCE VM meets: Docker Hub's limit on
 * pulls without a login, a full disk, a reference the registry does not have, a registry out of reach. The VM
 * answers `docker pull` as Docker 27 does, through the real VmShell.
 */
import { describe, expect, it } from 'vitest';
import { pullImage } from '../../src/setup/image-pull.js';
import type { RemoteHost } from '../../src/setup/ports.js';
import { Redactor } from '../../src/setup/redactor.js';
import { VmShell } from '../../src/setup/vm-shell.js';

const IMAGE = 'drone/drone-runner-aws:latest';

function failingPull(stderr: string): VmShell {
  const remote: RemoteHost = {
    user: 'gitspaces',
    exec: async () => ({ code: 1, signal: undefined, stdout: '', stderr }),
    putFile: async () => undefined,
    close: async () => undefined,
  };
  return new VmShell(remote, new Redactor());
}

describe('a pull that fails', () => {
  it.each([
    [
      "Docker Hub's limit",
      'Error response from daemon: toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit',
      'sudo docker login',
    ],
    [
      'a full disk',
      'failed to register layer: write /usr/bin/delegate: no space left on device',
      'out of disk space',
    ],
    [
      'an unknown tag',
      `Error response from daemon: manifest for ${IMAGE} not found: manifest unknown: manifest unknown`,
      'Check the image reference',
    ],
    [
      'a registry out of reach',
      'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      'Cloud NAT',
    ],
  ])('on %s says what to do', async (_what, stderr, fix) => {
    const failed = await pullImage(failingPull(stderr), IMAGE, { now: () => 0 }, () => undefined).catch(
      (e: unknown) => e,
    );
    expect(failed).toMatchObject({ code: 'IMAGE_PULL_FAILED' });
    expect((failed as Error).message).toContain(`Docker could not pull ${IMAGE}`);
    expect((failed as Error).message).toContain(fix);
  });
});
