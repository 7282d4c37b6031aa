import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`: Docker talks plain HTTP to a registry on loopback without being told. */
  address: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry (distribution) on a loopback port, storing in a temporary folder. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'gsb-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'registry.log');
  const child = spawn(
    'sh',
    ['-c', `exec /usr/bin/docker-registry serve "$1" >>"${logFile}" 2>&1`, 'r', config],
    {
      stdio: 'ignore',
    },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const end = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited (${child.exitCode}): ${readLog(logFile)}`);
    const answered = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (res) => res.ok,
      () => false,
    );
    if (answered) break;
    if (Date.now() > end) throw new Error(`docker-registry did not answer within 15 s: ${readLog(logFile)}`);
    await sleep(100);
  }
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const readLog = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '');
