/**
 * The docker step on a Debian VM without Docker whose install cannot reach the internet (no external IP and
 * no Cloud NAT): the VM answers the step's commands as such a VM does, through the real VmShell.
 */
import { describe, expect, it } from 'vitest';
import type { ExecResult, RemoteHost } from '../../src/setup/ports.js';
import { Redactor } from '../../src/setup/redactor.js';
import { dockerStep } from '../../src/setup/steps/docker.js';
import type { StepContext } from '../../src/setup/steps/step.js';
import { VmShell } from '../../src/setup/vm-shell.js';

const answer = (code: number, stdout = '', stderr = ''): ExecResult => ({
  code,
  signal: undefined,
  stdout,
  stderr,
});

/** A Debian VM without Docker; `install` is what the install script ends with. */
function vmWithoutDocker(install: ExecResult): { ctx: StepContext; scripts: string[] } {
  const scripts: string[] = [];
  const remote: RemoteHost = {
    user: 'gitspaces',
    async exec(script) {
      scripts.push(script);
      if (script.includes('command -v docker')) return answer(1);
      if (script.includes('echo "$ID"')) return answer(0, 'debian\n');
      return install;
    },
    putFile: async () => undefined,
    close: async () => undefined,
  };
  const vm = new VmShell(remote, new Redactor());
  return { ctx: { vm, remote } as unknown as StepContext, scripts };
}

describe('installing Docker on a VM that cannot reach the internet', () => {
  it.each([
    ['DNS gives no answer', 6, 'curl: (6) Could not resolve host: download.docker.com'],
    [
      'packets are dropped',
      28,
      'curl: (28) Failed to connect to download.docker.com port 443 after 20001 ms: Timeout was reached',
    ],
    [
      "apt could not fetch Docker's index",
      100,
      'W: Failed to fetch https://download.docker.com/linux/debian/dists/bookworm/InRelease  Could not connect to download.docker.com:443, connection timed out\nE: Unable to locate package docker-ce',
    ],
  ])('says to give it a route out when %s, keeping what failed', async (_why, code, stderr) => {
    const { ctx } = vmWithoutDocker(answer(code, '', stderr));
    const failed = await dockerStep.apply(ctx, { ok: false, summary: '' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'DOCKER_UNAVAILABLE', retryable: false });
    expect((failed as Error).message).toContain('cannot reach download.docker.com');
    expect((failed as Error).message).toContain('Cloud NAT');
    expect((failed as { detail?: string }).detail).toContain(stderr.split('\n')[0]);
  });

  it('says Docker publishes nothing for the release yet, and that its source was taken away again', async () => {
    const stderr =
      "E: The repository 'https://download.docker.com/linux/ubuntu questing Release' does not have a Release file.";
    const { ctx } = vmWithoutDocker(answer(100, '', stderr));
    const failed = await dockerStep.apply(ctx, { ok: false, summary: '' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'DOCKER_UNAVAILABLE', retryable: false });
    expect((failed as Error).message).toContain(
      "Docker's apt repository has no packages for ubuntu questing yet (the source the bot added was removed again",
    );
    expect((failed as Error).message).toContain('https://docs.docker.com/engine/install/ubuntu/');
  });

  it.each([
    ['dpkg fails', 'E: Sub-process /usr/bin/dpkg returned an error code (1)'],
    [
      'systemd is not there',
      "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down",
    ],
  ])('leaves any other failure as it was: %s', async (_why, stderr) => {
    const { ctx } = vmWithoutDocker(answer(1, '', stderr));
    const failed = await dockerStep.apply(ctx, { ok: false, summary: '' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'COMMAND_FAILED' });
    expect((failed as { detail?: string }).detail).toContain(stderr.split('\n').at(-1));
  });

  it('runs the whole install under sudo, with curl bounded', async () => {
    const { ctx, scripts } = vmWithoutDocker(answer(0));
    expect(await dockerStep.apply(ctx, { ok: false, summary: '' })).toContain("Docker's apt repository");
    const install = scripts.at(-1) ?? '';
    expect(install).toMatch(/^sudo -n sh -c /);
    expect(install).toContain('--connect-timeout 20');
  });
});
