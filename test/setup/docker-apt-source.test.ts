/**
 * The Docker install script, run whole by a real `sh` on a stand-in root: an Ubuntu release Docker publishes
 * no packages for yet. apt, curl and systemctl are shadowed (answering as apt 2.7 does for a repository
 * without the release: every `apt-get update` fails while that source is there), and the script's `/etc/`
 * is the stand-in root's, so nothing of this machine is touched.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTALL_APT } from '../../src/setup/steps/docker.js';

const NO_RELEASE = [
  "E: The repository 'https://download.docker.com/linux/ubuntu questing Release' does not have a Release file.",
  "N: Updating from such a repository can't be done securely, and is therefore disabled by default.",
].join('\n');

/** A root with /etc/os-release of `codename`, and tools that act on it; `supported` releases get packages. */
function standInVm(codename: string, supported: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'gsb-apt-root-'));
  const bin = join(root, 'bin');
  mkdirSync(join(root, 'etc/apt/sources.list.d'), { recursive: true });
  mkdirSync(bin);
  writeFileSync(join(root, 'etc/os-release'), `ID=ubuntu\nVERSION_CODENAME=${codename}\n`);
  const log = join(root, 'log');
  writeFileSync(log, '');
  writeFileSync(join(root, 'no-release'), `${NO_RELEASE}\n`);
  const list = join(root, 'etc/apt/sources.list.d/docker.list');
  const tools: Record<string, string> = {
    'apt-get': `echo "apt-get $*" >>${log}
case "$*" in *update*) ;; *) exit 0 ;; esac
if [ -f ${list} ] && [ ${supported ? 1 : 0} = 0 ]; then cat ${join(root, 'no-release')} >&2; exit 100; fi
exit 0`,
    curl: `while [ $# -gt 0 ]; do [ "$1" = -o ] && echo key > "$2"; shift; done`,
    dpkg: 'echo amd64',
    systemctl: `echo "systemctl $*" >>${log}`,
  };
  for (const [name, body] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const install = () =>
    spawnSync('sh', ['-c', INSTALL_APT.replaceAll('/etc/', `${root}/etc/`)], {
      env: { PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
  /** What a later `apt-get update` on the VM (unattended-upgrades') gets. */
  const laterUpdate = () => spawnSync(join(bin, 'apt-get'), ['update'], { encoding: 'utf8' });
  return { root, list, key: join(root, 'etc/apt/keyrings/docker.asc'), install, laterUpdate, log };
}

describe('installing Docker on a release Docker publishes nothing for', () => {
  it('fails with apt’s words and takes its source away again, so the VM’s apt keeps working', () => {
    const vm = standInVm('questing', false);
    const run = vm.install();
    expect(run.status).toBe(100);
    expect(run.stderr).toContain("linux/ubuntu questing Release' does not have a Release file");
    expect(existsSync(vm.list)).toBe(false);
    expect(existsSync(vm.key)).toBe(false);
    expect(vm.laterUpdate().status).toBe(0);
    expect(readFileSync(vm.log, 'utf8')).not.toContain('install -y -qq docker-ce');
  });

  it('keeps the source and installs on a release Docker supports', () => {
    const vm = standInVm('noble', true);
    const run = vm.install();
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(vm.list, 'utf8')).toContain(
      'docker.asc] https://download.docker.com/linux/ubuntu noble stable',
    );
    expect(readFileSync(vm.log, 'utf8')).toMatch(
      /apt-get .*install -y -qq docker-ce docker-ce-cli containerd.io/,
    );
    expect(readFileSync(vm.log, 'utf8')).toContain('systemctl enable --now docker');
  });
});
