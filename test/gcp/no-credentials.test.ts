/**
 * A terminal user without Google credentials: the CLI says what to do (a service account, or --host with
 * --known-hosts when only the Compute API was needed), and google-auth-library's MetadataLookupWarning does
 * not reach stderr. The metadata server (how a Google VM's credentials are found) is a loopback stand-in
 * answering 500, which google-auth-library reports as an unexpected error; nothing leaves the machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
// Run from an empty directory (no .env), so tsx is named by its path.
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
let dir: string;
let metadata: Server;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gsb-nocreds-'));
  writeFileSync(join(dir, 'pool.yml'), TEST_POOL);
  writeFileSync(join(dir, 'token'), TEST_TOKEN);
  writeFileSync(join(dir, 'key'), 'not read before the VM is found\n');
  metadata = createServer((_req, res) => res.writeHead(500).end('metadata server error'));
  await new Promise<void>((done) => metadata.listen(0, '127.0.0.1', done));
  const { port } = metadata.address() as { port: number };
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    GCE_METADATA_HOST: `127.0.0.1:${port}`,
    GCP_PROJECT: 'acme-prod',
    GCP_ZONE: 'us-central1-a',
    POOL_SECRET: `file:${join(dir, 'pool.yml')}`,
    DELEGATE_TOKEN_SECRET: `file:${join(dir, 'token')}`,
    SSH_KEY_SECRET: `file:${join(dir, 'key')}`,
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    SSH_USER: 'gitspaces',
  };
});
afterAll(async () => {
  await new Promise((done) => metadata.close(done));
  rmSync(dir, { recursive: true, force: true });
});

async function node(script: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, script, ...args], {
      cwd: dir,
      env,
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const cli = (...args: string[]) => node(join(ROOT, 'test/support/cli-process.ts'), args);

describe('without Google credentials', () => {
  it('the stand-in metadata server makes google-auth-library warn when nothing stops it', async () => {
    const r = await node(join(ROOT, 'test/support/metadata-lookup-child.ts'), []);
    expect(r.stdout).toContain('"available":false');
    expect(r.stderr).toContain('MetadataLookupWarning');
  }, 60_000);

  it.each([
    ['setup', 'runner-1', '--yes'],
    ['plan', 'runner-1'],
    ['check-config', 'runner-1'],
  ])(
    '%s with file: secrets says to use a service account or --host, and prints no MetadataLookupWarning',
    async (...args) => {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      const out = `${r.stdout}${r.stderr}`;
      expect(out).toContain('No Google credentials were found');
      // check-config wraps its columns: the words, not the phrase.
      expect(out).toMatch(/--host\s/);
      expect(out).toMatch(/--known-hosts\s/);
      expect(out).not.toContain('file:/env:');
      expect(r.stderr).not.toContain('MetadataLookupWarning');
      expect(r.stderr).not.toContain('Warning');
    },
    90_000,
  );
});
