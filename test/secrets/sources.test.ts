import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretSource } from '../../src/secrets/index.js';
import type { SecretSource } from '../../src/setup/ports.js';

const scratch = mkdtempSync(join(tmpdir(), 'gsb-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TOKEN = 'tok-3f9a7c1e-secret-value';
const failure = (source: SecretSource, reference: string) =>
  source.read(reference).then(
    () => expect.fail(`${reference} should not be readable`),
    (error: unknown) => error as Error & { code: string },
  );

describe('file: secrets', () => {
  const secrets = createSecretSource({ env: {} });

  it('reads the whole file as it is', async () => {
    const file = join(scratch, 'token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    expect((await secrets.read(`file:${file}`)).toString()).toBe(`${TOKEN}\n`);
  });

  it('names a missing file', async () => {
    const error = await failure(secrets, `file:${scratch}/missing`);
    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.message).toContain(`file:${scratch}/missing`);
  });

  it('refuses an empty file without naming its content', async () => {
    const file = join(scratch, 'empty');
    writeFileSync(file, '\n');
    const error = await failure(secrets, `file:${file}`);
    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(error.message).toContain(`file:${file} is empty`);
  });

  it('refuses a directory', async () => {
    const dir = join(scratch, 'dir');
    mkdirSync(dir);
    expect((await failure(secrets, `file:${dir}`)).code).toBe('SECRET_INVALID_REF');
  });

  it('says when the file is not readable by the bot, without showing its content', async () => {
    const file = join(scratch, 'locked');
    writeFileSync(file, TOKEN);
    chmodSync(file, 0o000);
    const error = await readAsUnprivileged(`file:${file}`);
    expect(error.code).toBe('SECRET_PERMISSION_DENIED');
    expect(error.message).toContain(`file:${file} is not readable`);
    expect(error.message).toContain('chmod');
    expect(error.message).not.toContain(TOKEN);
  });
});

/**
 * Root reads any file, so as root the read runs in a child process without the capabilities that let root
 * ignore file modes (as any other user would be). It stays uid 0 rather than becoming nobody: the checkout
 * it loads the code from may sit in a directory only root can enter (/root, mode 0700).
 */
async function readAsUnprivileged(reference: string): Promise<{ code: string; message: string }> {
  if (process.getuid?.() !== 0) return failure(createSecretSource({ env: {} }), reference);
  const source = fileURLToPath(new URL('../../src/secrets/index.ts', import.meta.url));
  const script =
    `import { createSecretSource } from ${JSON.stringify(source)};\n` +
    `createSecretSource({ env: {} }).read(${JSON.stringify(reference)}).then(` +
    '() => console.log("{}"), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));';
  const child = spawnSync(
    'setpriv',
    [
      '--bounding-set=-dac_override,-dac_read_search',
      '--',
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as { code: string; message: string };
}

describe('env: secrets', () => {
  const env = { DELEGATE_TOKEN: TOKEN, BLANK: '  ' };
  const secrets = createSecretSource({ env });

  it('reads the variable from the environment it was given, not the process environment', async () => {
    expect((await secrets.read('env:DELEGATE_TOKEN')).toString()).toBe(TOKEN);
    process.env.GSB_ONLY_IN_PROCESS = 'x';
    try {
      expect((await failure(secrets, 'env:GSB_ONLY_IN_PROCESS')).code).toBe('SECRET_NOT_FOUND');
    } finally {
      delete process.env.GSB_ONLY_IN_PROCESS;
    }
  });

  it('names an unset or empty variable without showing any value', async () => {
    const unset = await failure(secrets, 'env:NOT_SET');
    expect(unset.code).toBe('SECRET_NOT_FOUND');
    expect(unset.message).toContain('NOT_SET is not set');
    const blank = await failure(secrets, 'env:BLANK');
    expect(blank.code).toBe('SECRET_UNREADABLE');
    expect(blank.message).toContain('env:BLANK');
  });

  it('refuses a reference that is not a variable name', async () => {
    expect((await failure(secrets, 'env:not a name')).code).toBe('SECRET_INVALID_REF');
  });
});

describe('Secret Manager references', () => {
  it('go to Secret Manager when it is configured', async () => {
    const asked: string[] = [];
    const secrets = createSecretSource({
      env: {},
      secretManager: {
        read: async (ref) => {
          asked.push(ref);
          return Buffer.from('from-sm');
        },
      },
    });
    expect((await secrets.read('delegate-token@3')).toString()).toBe('from-sm');
    expect(asked).toEqual(['delegate-token@3']);
  });

  it('fail clearly when Secret Manager is not configured', async () => {
    const error = await failure(createSecretSource({ env: {} }), 'delegate-token');
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toContain('"delegate-token" is a Secret Manager name');
    expect(error.message).toContain('file:/path or env:VAR');
  });
});
