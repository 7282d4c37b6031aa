import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { holdRunnerPortLock } from '../runner-port.js';
import { TEST_TOKEN, writeSecrets } from '../secrets-dir.js';
import { startEngine, type TestEngine } from './daemon.js';
import { publishImages, type TestImages } from './images.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { startVmLogin, type VmLogin } from './vm-login.js';

const SOURCE_CLI = resolve(import.meta.dirname, '../../../src/cli.ts');
const TSX = import.meta.resolve('tsx');

export interface CliRun {
  code: number | null;
  /** stdout and stderr as a person at the terminal sees them, interleaved. */
  output: string;
  ms: number;
}

export interface EngineTier {
  engine: TestEngine;
  registry: TestRegistry;
  images: TestImages;
  vm: VmLogin;
  runnerDir: string;
  secrets: ReturnType<typeof writeSecrets>;
  /** `gitspaces-bot <command> --host 127.0.0.1 … --name vm-engine` as its own process (no stdin). */
  cli(
    command: 'setup' | 'plan' | 'status',
    extraArgs?: string[],
    env?: Record<string, string>,
  ): Promise<CliRun>;
  /** Ids of the bot's two containers, by name. */
  containerIds(): Record<string, string>;
  /** `docker inspect -f <format> <name>` */
  inspect(name: string, format: string): string;
  /** A bare VM again: no containers, networks or images, no runner folder. */
  reset(): void;
  stop(): Promise<void>;
}

export const DELEGATE = 'vm-engine-delegate';
export const NETWORK = 'harness';

/** Everything the real-engine tests need: dockerd, the loopback registry with the images, the VM's sshd. */
export async function startEngineTier(options: { compiledCli?: string } = {}): Promise<EngineTier> {
  // The runner publishes 127.0.0.1:3000 on this machine: one test file at a time may hold it.
  const port = await holdRunnerPortLock();
  const engine = await startEngine();
  const registry = await startRegistry();
  const images = publishImages(engine, registry.address);
  const vm = await startVmLogin(engine.host);
  const secrets = writeSecrets(vm.privateKey);
  const runnerParent = mkdtempSync(join(tmpdir(), 'gsb-engine-runner-'));
  // Like `/` on a VM: anyone may look in; the runner folder itself is made by the bot as root.
  chmodSync(runnerParent, 0o755);
  const runnerDir = join(runnerParent, 'runner');
  const home = mkdtempSync(join(tmpdir(), 'gsb-engine-home-'));
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    POOL_SECRET: secrets.refs.pool,
    DELEGATE_TOKEN_SECRET: secrets.refs.delegateToken,
    SSH_KEY_SECRET: secrets.refs.sshKey,
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_DIR: runnerDir,
    RUNNER_IMAGE: images.runner,
    DELEGATE_IMAGE: images.delegate,
    DOCKER_NETWORK: NETWORK,
    // The stand-ins are up within a second: a check that fails should not hold the tier for long.
    RUNNER_HEALTH_TIMEOUT: '10s',
    DELEGATE_HEALTH_TIMEOUT: '10s',
  };
  const target = [
    ...['--host', '127.0.0.1', '--port', String(vm.port), '--user', vm.user],
    ...['--known-hosts', vm.knownHostsFile, '--name', 'vm-engine'],
  ];
  return {
    engine,
    registry,
    images,
    vm,
    runnerDir,
    secrets,
    cli: (command, extraArgs = [], env = {}) =>
      runCli(options.compiledCli, [command, ...target, ...extraArgs], { ...baseEnv, ...env }, home),
    containerIds() {
      const out = engine.docker(['ps', '-a', '--format', '{{.Names}} {{.ID}}']);
      return Object.fromEntries(
        out
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split(' ')),
      );
    },
    inspect: (name, format) => engine.docker(['inspect', '-f', format, name]).trim(),
    reset() {
      const ids = engine.docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length > 0) engine.docker(['rm', '-f', ...ids]);
      engine.tryDocker(['network', 'rm', NETWORK]);
      for (const ref of [images.runner, images.delegate]) engine.tryDocker(['rmi', ref]);
      rmSync(runnerDir, { recursive: true, force: true });
    },
    async stop() {
      await vm.stop();
      await engine.stop();
      await registry.stop();
      await port.release();
      for (const dir of [secrets.dir, home, join(runnerDir, '..')])
        rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The CLI from source through tsx, or the compiled one (`dist/src/cli.js`) as the binary runs it. */
function runCli(
  compiled: string | undefined,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<CliRun> {
  const started = Date.now();
  const cli = pathToFileURL(compiled ?? SOURCE_CLI).href;
  const script = `const { main } = await import(${JSON.stringify(cli)}); process.exitCode = await main(${JSON.stringify(argv)});`;
  const loader = compiled ? [] : ['--import', TSX];
  const child = spawn(process.execPath, [...loader, '--input-type=module', '-e', script], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  return new Promise((ok) => child.once('close', (code) => ok({ code, output, ms: Date.now() - started })));
}

export { TEST_TOKEN };
