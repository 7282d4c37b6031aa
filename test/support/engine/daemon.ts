import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DOCKERD = '/usr/sbin/dockerd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why the real engine cannot run here, or undefined when it can. */
export function engineMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the real-engine tests start dockerd and sudo users: run them as root';
  for (const [file, pkg] of [
    [DOCKERD, 'docker.io'],
    ['/usr/bin/busybox', 'busybox-static'],
    ['/usr/bin/docker-registry', 'docker-registry'],
    ['/usr/bin/sudo', 'sudo'],
    ['/usr/sbin/sshd', 'openssh-server'],
  ] as const) {
    if (!existsSync(file)) return `${file} is missing: apt-get install ${pkg} (.ci/run does)`;
  }
  return undefined;
}

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestEngine {
  dir: string;
  /** `unix://…/docker.sock`: what DOCKER_HOST must say to reach this engine. */
  host: string;
  /** Runs the Docker CLI against this engine, as root on the "VM" would. Throws when it fails. */
  docker(args: string[]): string;
  /** The same, returning the exit code and output instead of throwing. */
  tryDocker(args: string[]): DockerResult;
  log(): string;
  /**
   * Stops the daemon as a VM's shutdown does (SIGTERM: it stops the containers) and starts it again on the same
   * data, as the VM's next boot does; resolves once it answers.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A dockerd of the tests' own: its own data root, exec root (and so its own containerd) and a unix socket in a
 * temporary folder. It leaves the host's firewall alone (no iptables rules, no default bridge): containers on
 * one user-defined network reach each other and published ports go through docker-proxy on the host.
 */
export async function startEngine(): Promise<TestEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'gsb-engine-'));
  const socket = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const args = [
    ...['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec')],
    ...['--pidfile', join(dir, 'docker.pid'), '-H', `unix://${socket}`],
    ...['--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none'],
    ...['--shutdown-timeout', '2', '--log-level', 'warn'],
  ];
  const spawnDaemon = () =>
    spawn('sh', ['-c', `exec ${DOCKERD} "$@" >>"${logFile}" 2>&1`, 'dockerd', ...args], { stdio: 'ignore' });
  let child = spawnDaemon();
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const host = `unix://${socket}`;
  const run = (cmd: string[]): DockerResult => {
    const out = spawnSync('docker', cmd, {
      env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: out.status ?? 1, stdout: out.stdout ?? '', stderr: out.stderr ?? String(out.error ?? '') };
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await untilAnswering(child, run, log);
  return {
    dir,
    host,
    docker(cmd) {
      const out = run(cmd);
      if (out.code !== 0) throw new Error(`docker ${cmd.join(' ')} failed (${out.code}): ${out.stderr}`);
      return out.stdout;
    },
    tryDocker: run,
    log,
    async restart() {
      await terminate(child);
      child = spawnDaemon();
      await untilAnswering(child, run, log);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      // Containers and networks first: user-defined networks leave bridge interfaces on the host otherwise.
      const ids = run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) run(['rm', '-f', ...ids]);
      run(['network', 'prune', '-f']);
      await terminate(child);
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, as systemd stops dockerd; SIGKILL when it has not exited within 20 s. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function untilAnswering(
  child: ChildProcess,
  run: (cmd: string[]) => DockerResult,
  log: () => string,
): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`dockerd exited (${child.exitCode}):\n${log().slice(-4000)}`);
    if (run(['version', '--format', '{{.Server.Version}}']).code === 0) return;
    if (Date.now() > end) throw new Error(`dockerd did not answer within 30 s:\n${log().slice(-4000)}`);
    await sleep(100);
  }
}

/** Overlay mounts a killed daemon left behind would make the folder impossible to remove. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .reverse();
  for (const point of mounts) spawnSync('umount', ['-l', point]);
}
