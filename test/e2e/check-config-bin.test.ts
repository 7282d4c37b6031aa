/**
 * The built `gitspaces-bot` binary, as a user runs it: compiled from this checkout into a temporary
 * directory (so it neither needs nor touches the checkout's dist/), started with an empty environment.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gsb-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/gitspaces-bot.js'), join(dir, 'bin/gitspaces-bot.js'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // The build of tsconfig.build.json, emitted from the CLI's import graph; types are the typecheck's job.
  const tsconfig = {
    extends: join(ROOT, 'tsconfig.build.json'),
    compilerOptions: { outDir: join(dir, 'dist'), rootDir: ROOT, sourceMap: false, noCheck: true },
    files: [join(ROOT, 'src/cli.ts')],
    include: [],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  await run(process.execPath, [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(dir, 'tsconfig.json'),
  ]);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function bin(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/gitspaces-bot.js', ...args], {
      cwd: dir,
      env,
      timeout: 30_000,
    });
    return { code: 0, signal: null, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; signal: string | null; stdout: string; stderr: string };
    return { code: e.code, signal: e.signal, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the gitspaces-bot binary', () => {
  it('check-config with nothing set exits non-zero and lists every missing setting', async () => {
    const r = await bin(['check-config']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'APPROVERS',
      'POOL_SECRET',
      'DELEGATE_TOKEN_SECRET',
      'SSH_KEY_SECRET',
      'HARNESS_ACCOUNT_ID',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${name} +FAIL +${name} is missing`, 'm'));
    }
    expect(r.stdout).toMatch(/^Slack auth\.test +skip +not tried: SLACK_BOT_TOKEN is not set/m);
    expect(r.stdout).toContain('Set SLACK_BOT_TOKEN in the environment or in .env');
    expect(r.stdout).toMatch(/checks failed: fix the FAIL rows/);
  });

  it('check-config ends by itself when Google accepts connections and never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const env = {
        GCP_PROJECT: 'acme-prod',
        GCP_ZONE: 'us-central1-a',
        POOL_SECRET: 'pool',
        SECRET_MANAGER_API_URL: url,
        COMPUTE_API_URL: url,
      };
      const r = await bin(['check-config', 'runner-1'], env);
      // Killed by the 30 s limit it would have a signal: the command must exit once its table is printed.
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /^POOL_SECRET pool +FAIL +Secret Manager did not answer within 3 s while reading/m,
      );
      expect(r.stdout).toMatch(
        /^VM runner-1 +FAIL +The Compute API did not answer within 3 s while reading/m,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('check-config --help prints its usage and exits 0', async () => {
    const r = await bin(['check-config', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: gitspaces-bot check-config [<vm>]');
  });
});
