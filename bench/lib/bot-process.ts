/**
 * `gitspaces-bot app` or `gitspaces-bot worker` exactly as production runs them: the compiled CLI in a plain
 * Node process (no TypeScript loader), configured through its environment only, in an empty working
 * directory (no .env). Memory and CPU are read from /proc; it stops on SIGTERM as in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildProduct } from './build.js';
import { PROFILE_DIR } from './child.js';
import { now } from './clock.js';
import { CPU_PROF } from './mode.js';

export interface BotProcess {
  pid: number;
  child: ChildProcess;
  /** Log lines (parsed JSON) seen so far. */
  lines: Array<Record<string, unknown>>;
  rssBytes(): number;
  /** User + system CPU time so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

const TICK_MS = 10;

function readRss(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function readCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

export async function startBot(
  kind: 'app' | 'worker',
  env: Record<string, string>,
  name: string,
): Promise<BotProcess> {
  const dir = buildProduct();
  const args = [
    '--input-type=module',
    '-e',
    `const { main } = await import(${JSON.stringify(join(dir, 'src', 'cli.js'))}); process.exit(await main([${JSON.stringify(kind)}]));`,
  ];
  if (CPU_PROF) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    args.unshift('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`);
  }
  const child = spawn(process.execPath, args, {
    cwd: mkdtempSync(join(tmpdir(), 'gsb-bench-cwd-')),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it started: ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        entry.benchAt = now();
        lines.push(entry);
        if (entry.msg === `${kind} started`) {
          clearTimeout(timer);
          resolve();
        }
      } catch {
        // Not a log line.
      }
    });
  });
  const pid = child.pid as number;
  return {
    pid,
    child,
    lines,
    rssBytes: () => readRss(pid),
    cpuMs: () => readCpuMs(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}
