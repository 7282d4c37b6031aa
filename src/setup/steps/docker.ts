import { GitspacesError, isGitspacesError } from '../../errors.js';
import { ENABLE_AT_BOOT } from '../docker-boot.js';
import { readDockerInfo } from '../docker-info.js';
import { describeSize, SMALL_VM, tooSmall } from '../vm-memory.js';
import type { Check, StepContext, VmStep } from './step.js';

/**
 * A fresh VM's first minutes often belong to unattended-upgrades, which holds apt's locks. Installs wait for
 * the dpkg lock (`DPkg::Lock::Timeout`); `apt-get update` does not wait for its own lock, so it is tried again
 * every 5 s, for up to 10 minutes, while apt says another process holds it. Messages in English (`LC_ALL=C`):
 * that is what is matched.
 */
export const APT_UPDATE = [
  'apt_update() {',
  '  for i in $(seq 120); do',
  // A source it could not fetch is only a warning (exit 0): said on stderr, so that the install failing
  // next ("Unable to locate package docker-ce") comes with the reason.
  '    out=$(apt-get update -qq 2>&1) && { printf "%s\\n" "$out" | grep "^[WE]:" >&2 || true; return 0; }',
  '    case "$out" in *"Could not get lock"*) sleep 5 ;; *) break ;; esac',
  '  done',
  '  printf "%s\\n" "$out" >&2',
  '  return 1',
  '}',
].join('\n');

const APT_INSTALL = 'apt-get -o DPkg::Lock::Timeout=600 install -y -qq';

/**
 * Docker's official apt repository (https://docs.docker.com/engine/install/debian/); the convenience script
 * is not meant for production. $ID comes from /etc/os-release (debian or ubuntu). A source apt cannot update
 * from (a release Docker publishes no packages for yet) would fail every later `apt-get update` on the VM,
 * unattended-upgrades' too: it is removed again, with its key, when the update after adding it fails.
 */
export const INSTALL_APT = [
  'set -e',
  'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
  APT_UPDATE,
  '. /etc/os-release',
  'apt_update',
  `${APT_INSTALL} ca-certificates curl`,
  'install -m 0755 -d /etc/apt/keyrings',
  // A VM with no route out drops packets: without a bound, curl waits for the kernel's two minutes, each try.
  'curl -fsSL --connect-timeout 20 --retry 2 "https://download.docker.com/linux/$ID/gpg" -o /etc/apt/keyrings/docker.asc',
  'chmod a+r /etc/apt/keyrings/docker.asc',
  'echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list',
  'apt_update || { rm -f /etc/apt/sources.list.d/docker.list /etc/apt/keyrings/docker.asc; exit 100; }',
  `${APT_INSTALL} docker-ce docker-ce-cli containerd.io`,
  'systemctl enable --now docker',
].join('\n');

/** What curl and apt print when the VM cannot reach a host (no external IP and no Cloud NAT, or no DNS). */
const NO_ROUTE =
  /Could not resolve host|Temporary failure resolving|Failed to connect to \S+ port|Could not connect to|Connection timed out|Network is unreachable|No route to host/i;

/** apt's words for a repository without the release asked for: `…/linux/ubuntu questing Release'`. */
const NO_RELEASE = /download\.docker\.com\/linux\/(\w+) (\S+) Release' does not have a Release file/;

/**
 * An install that failed because the VM cannot reach Docker's or the distribution's servers, or because
 * Docker publishes nothing for the VM's release yet, said so; any other failure as it was.
 */
function installFailure(error: unknown): unknown {
  if (!isGitspacesError(error)) return error;
  const detail = error.detail ?? '';
  const release = NO_RELEASE.exec(detail);
  if (release !== null) {
    const [, id, codename] = release;
    return new GitspacesError(
      'DOCKER_UNAVAILABLE',
      `Docker could not be installed: Docker's apt repository has no packages for ${id} ${codename} yet (the source the bot added was removed again, so the VM's apt works as before). Use a release Docker supports, or install Docker Engine on the VM yourself (https://docs.docker.com/engine/install/${id}/), and run setup again.`,
      { detail, retryable: false },
    );
  }
  if (!NO_ROUTE.test(detail)) return error;
  return new GitspacesError(
    'DOCKER_UNAVAILABLE',
    "Docker could not be installed: the VM cannot reach download.docker.com or its distribution's package servers. Give it a route to the internet (Cloud NAT, or an external IP), or install Docker Engine on it yourself (https://docs.docker.com/engine/install/), and run setup again.",
    { detail, retryable: false },
  );
}

/**
 * "Docker 27.3.1 (2 CPUs, 7.8 GB of memory)", with a warning on a VM too small for the delegate, and whether
 * systemd starts it at boot; `version` undefined when Docker does not answer.
 */
async function docker(ctx: StepContext): Promise<{ version?: string; atBoot?: boolean }> {
  const { version, size, atBoot } = await readDockerInfo(ctx.vm);
  if (version === undefined) return {};
  const small = size !== undefined && tooSmall(size) ? `; warning: that is ${SMALL_VM}` : '';
  const described = `Docker ${version}${size === undefined ? '' : ` (${describeSize(size)})`}${small}`;
  return { version: described, ...(atBoot === undefined ? {} : { atBoot }) };
}

async function osId(ctx: StepContext): Promise<string> {
  const result = await ctx.vm.script('. /etc/os-release 2>/dev/null && echo "$ID"', { allowFail: true });
  return result.stdout.trim();
}

export const dockerStep: VmStep = {
  id: 'docker',
  async check(ctx): Promise<Check> {
    const { version, atBoot } = await docker(ctx);
    if (version === undefined) return { ok: false, summary: 'Docker is not running' };
    if (atBoot === false) return { ok: false, summary: `${version} answers but does not start at boot` };
    return { ok: true, summary: `${version} answers` };
  },
  async apply(ctx): Promise<string> {
    const client = await ctx.vm.script('command -v docker', { allowFail: true });
    if (client.code === 0) {
      // Installed: stopped (Container-Optimized OS ships Docker), or running but not started at boot.
      const running = (await docker(ctx)).version !== undefined;
      await ctx.vm.run(ENABLE_AT_BOOT, { root: true });
      return running
        ? 'made Docker start at boot (docker.service was disabled: after a restart the VM would have come back without the runner and the delegate)'
        : 'started Docker, and made it start at boot';
    }
    const id = await osId(ctx);
    if (id !== 'debian' && id !== 'ubuntu') {
      throw new GitspacesError(
        'DOCKER_UNAVAILABLE',
        `Docker is not installed and the VM runs "${id || 'an unknown OS'}": the bot installs Docker on Debian and Ubuntu only. Install Docker Engine on the VM (https://docs.docker.com/engine/install/) and run setup again.`,
      );
    }
    await ctx.vm
      .script(INSTALL_APT, { root: true, timeoutMs: 15 * 60_000 }, 'install Docker')
      .catch((error: unknown) => {
        throw installFailure(error);
      });
    return `installed Docker Engine from Docker's apt repository (${id})`;
  },
};
