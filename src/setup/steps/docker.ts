import { GitspacesError } from '../../errors.js';
import type { Check, StepContext, VmStep } from './step.js';

/**
 * Docker's official apt repository (https://docs.docker.com/engine/install/debian/); the convenience script
 * is not meant for production. $ID comes from /etc/os-release (debian or ubuntu).
 */
const INSTALL_APT = [
  'set -e',
  'export DEBIAN_FRONTEND=noninteractive',
  '. /etc/os-release',
  'apt-get update -qq',
  'apt-get install -y -qq ca-certificates curl',
  'install -m 0755 -d /etc/apt/keyrings',
  'curl -fsSL "https://download.docker.com/linux/$ID/gpg" -o /etc/apt/keyrings/docker.asc',
  'chmod a+r /etc/apt/keyrings/docker.asc',
  'echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list',
  'apt-get update -qq',
  'apt-get install -y -qq docker-ce docker-ce-cli containerd.io',
  'systemctl enable --now docker',
].join('\n');

/** `docker info` of 27.x exits 0 with an empty line when the daemon is down: the output decides. */
async function serverVersion(ctx: StepContext): Promise<string | undefined> {
  const result = await ctx.vm.run(['docker', 'info', '--format', '{{.ServerVersion}}'], {
    root: true,
    allowFail: true,
  });
  const version = result.stdout.trim();
  return result.code === 0 && version !== '' ? version : undefined;
}

async function osId(ctx: StepContext): Promise<string> {
  const result = await ctx.vm.script('. /etc/os-release 2>/dev/null && echo "$ID"', { allowFail: true });
  return result.stdout.trim();
}

export const dockerStep: VmStep = {
  id: 'docker',
  async check(ctx): Promise<Check> {
    const version = await serverVersion(ctx);
    return version
      ? { ok: true, summary: `Docker ${version} answers` }
      : { ok: false, summary: 'Docker is not running' };
  },
  async apply(ctx): Promise<string> {
    const client = await ctx.vm.script('command -v docker', { allowFail: true });
    if (client.code === 0) {
      // Installed but stopped (Container-Optimized OS ships Docker): start it.
      await ctx.vm.run(['systemctl', 'start', 'docker'], { root: true });
      return 'started Docker';
    }
    const id = await osId(ctx);
    if (id !== 'debian' && id !== 'ubuntu') {
      throw new GitspacesError(
        'DOCKER_UNAVAILABLE',
        `Docker is not installed and the VM runs "${id || 'an unknown OS'}": the bot installs Docker on Debian and Ubuntu only. Install Docker Engine on the VM (https://docs.docker.com/engine/install/) and run setup again.`,
      );
    }
    await ctx.vm.script(INSTALL_APT, { root: true, timeoutMs: 15 * 60_000 }, 'install Docker');
    return `installed Docker Engine from Docker's apt repository (${id})`;
  },
};
