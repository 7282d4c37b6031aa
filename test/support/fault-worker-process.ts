/** Starts setup workers for a fleet in child processes (test/support/fault-worker-child.ts) and kills them. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultWorkerSpec } from './fault-worker-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface FaultWorkerProcess {
  child: ChildProcess;
  readonly alive: boolean;
  /** SIGKILL: the process ends mid-whatever, holding its job locks until they lapse. */
  kill(): Promise<void>;
  output(): string;
}

export async function spawnFaultWorker(spec: FaultWorkerSpec): Promise<FaultWorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'fault-worker-child.ts')], {
    env: { ...process.env, GSB_FAULT_WORKER: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  });
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes('ready\n')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`worker process ended (${code ?? signal}):\n${output}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    child,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    output: () => output,
  };
}
