/**
 * Starts and kills workers running in child processes: setup workers (test/support/queue-worker-child.ts) or
 * watch workers (test/support/watch-worker-child.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerChildSpec } from './queue-worker-child.js';
import type { WatchChildSpec } from './watch-worker-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** SIGKILL: the process ends mid-whatever, holding its job locks until they lapse. */
  kill(): Promise<void>;
}

export async function spawnWorker(
  spec: WorkerChildSpec | WatchChildSpec,
  script = 'queue-worker-child.ts',
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, script)], {
    env: { ...process.env, GSB_QUEUE_CHILD: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('ready\n')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`worker process ended (${code ?? signal}):\n${output}`)),
    );
  });
  return {
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
