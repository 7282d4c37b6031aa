/**
 * Benchmark parts that must not share an event loop with the measuring side run as child processes with an
 * IPC channel: they send `{type: 'ready', …}` once started and answer typed messages.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPU_PROF } from './mode.js';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PROFILE_DIR = join(BENCH_DIR, 'profiles');

export interface Message {
  type: string;
  [field: string]: unknown;
}

export interface ChildHandle {
  child: ChildProcess;
  ready: Message;
  send(message: Message): void;
  /** The next message of `type`. */
  next<T extends Message>(type: string, timeoutMs?: number): Promise<T>;
  on<T extends Message>(type: string, listener: (message: T) => void): void;
  /** Asks the child to stop (`{type: 'stop'}`), then kills it if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ChildOptions {
  /** Name used in errors and for the CPU profile file. */
  name: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function startChild(file: string, options: ChildOptions): Promise<ChildHandle> {
  const execArgv = ['--import', 'tsx'];
  if (CPU_PROF) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push(
      '--cpu-prof',
      `--cpu-prof-dir=${PROFILE_DIR}`,
      `--cpu-prof-name=${options.name}.cpuprofile`,
    );
  }
  const child = fork(file, [], {
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listeners = new Map<string, Array<(message: Message) => void>>();
  child.on('message', (raw) => {
    const message = raw as Message;
    for (const listener of listeners.get(message.type) ?? []) listener(message);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const on = <T extends Message>(type: string, listener: (message: T) => void) => {
    const list = listeners.get(type) ?? [];
    list.push(listener as (message: Message) => void);
    listeners.set(type, list);
  };
  const next = <T extends Message>(type: string, timeoutMs = 120_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name}: no "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const gone = () => reject(new Error(`${options.name} exited before sending "${type}"`));
      child.once('exit', gone);
      const list = listeners.get(type) ?? [];
      const once = (message: Message) => {
        clearTimeout(timer);
        child.off('exit', gone);
        list.splice(list.indexOf(once), 1);
        resolve(message as T);
      };
      list.push(once);
      listeners.set(type, list);
    });

  const ready = await next('ready', options.readyTimeoutMs ?? 60_000);
  return {
    child,
    ready,
    send: (message) => child.send(message),
    next,
    on,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child's side: messages to the parent, and handlers for the parent's. */
export const parent = {
  send(message: Message): void {
    process.send?.(message);
  },
  on<T extends Message>(type: string, handler: (message: T) => void | Promise<void>): void {
    process.on('message', (raw) => {
      const message = raw as Message;
      if (message.type === type) void handler(message as T);
    });
  },
  /** Reads the JSON spec the parent put in `BENCH_SPEC`. */
  spec<T>(): T {
    return JSON.parse(process.env.BENCH_SPEC ?? '{}') as T;
  },
};
