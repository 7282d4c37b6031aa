/**
 * A Redis server of the test's own (never the shared one on 6379), so that a test can cut its clients,
 * kill it and start it again. AOF with `appendfsync always` keeps every acknowledged write across a kill,
 * as a production Redis with persistence would (README: "appendonly yes").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  port: number;
  url: string;
  /** A connection for the test itself (named `fault-admin`, never cut by `cutClients`). */
  admin: Redis;
  /** `CLIENT KILL` every client of this server but the test's own: connections drop, the server stays. */
  cutClients(): Promise<number>;
  /** SIGKILL: the server dies at once, as on a crash or an OOM kill. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data directory. */
  start(): Promise<void>;
  /** kill, then start after `downMs`. */
  restart(downMs?: number): Promise<void>;
  readonly running: boolean;
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, host, ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'gsb-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8192);
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8192);
    });
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`redis-server did not start:\n${output}`)), 15_000);
      const check = () => {
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          proc.stdout?.off('data', check);
          ok();
        }
      };
      proc.stdout?.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
    child = proc;
  }

  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      // The probed port may have been taken before redis-server bound it.
      if (attempt >= 5) throw error;
      port = await freePort();
    }
  }
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { connectionName: 'fault-admin', maxRetriesPerRequest: null });
  admin.on('error', () => undefined);

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async function start(): Promise<void> {
    if (child !== undefined) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await launch();
        return;
      } catch (error) {
        // The old socket may linger a moment after a kill.
        if (attempt >= 20) throw error;
        await sleep(250);
      }
    }
  }

  return {
    port,
    url,
    admin,
    async cutClients() {
      const list = String(await admin.client('LIST'));
      let cut = 0;
      for (const line of list.split('\n')) {
        const id = /(?:^| )id=(\d+)/.exec(line)?.[1];
        const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '';
        if (id === undefined || name === 'fault-admin') continue;
        cut += Number(await admin.client('KILL', 'ID', id).catch(() => 0));
      }
      return cut;
    },
    kill,
    start,
    async restart(downMs = 1000) {
      await kill();
      await sleep(downMs);
      await start();
    },
    get running() {
      return child !== undefined;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      admin.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
