import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  closeGoogleClients,
  computeClient,
  NO_CREDENTIALS_TOKEN,
  secretManagerClient,
} from '../../src/gcp/clients.js';
import { createSecretManagerSource, parseSecretRef } from '../../src/gcp/secrets.js';
import { codedError } from '../support/coded-error.js';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';

let google: FakeGoogle;
/** Retried failures end in well under a second. */
const FAST = { callPolicy: { deadlineMs: 5_000, retryDelaysMs: [100], budgetMs: 8_000 } };
const TOKEN = 'hx-delegate-token-7f3a9c';

function configFor(env: Record<string, string> = {}) {
  return loadConfig(
    { GCP_PROJECT: 'acme-prod', SECRET_MANAGER_API_URL: google.url, COMPUTE_API_URL: google.url, ...env },
    { dotEnv: false },
  );
}

beforeAll(async () => {
  google = await startFakeGoogle();
  google
    .addSecret('acme-prod', 'delegate-token', 'old-token\n', `${TOKEN}\n`)
    .addSecret('other-proj', 'pool-yaml', 'version: "1"\n')
    .addSecret('acme-prod', 'corrupted', { data: TOKEN, checksum: 'wrong' })
    .addSecret('acme-prod', 'unchecked', { data: 'no checksum here', checksum: 'none' })
    .addSecret(
      'acme-prod',
      'rotated',
      { data: 'gone', state: 'DISABLED' },
      { data: 'burnt', state: 'DESTROYED' },
    )
    .addSecret('acme-prod', 'forbidden', 'x')
    .addSecret('acme-prod', 'binary', Buffer.from([0, 255, 1, 254]))
    .fail('/secrets/forbidden/', {
      status: 403,
      message:
        "Permission 'secretmanager.versions.access' denied for resource 'projects/acme-prod/secrets/forbidden/versions/latest' (or it may not exist).",
    })
    .fail('/secrets/flaky/', { status: 503, message: 'The service is currently unavailable.' })
    .fail('/secrets/expired-login/', {
      status: 401,
      message: 'Request had invalid authentication credentials.',
    });
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

describe('Secret Manager source', () => {
  it('reads the latest version of a bare name from GCP_PROJECT, with the trailing newline kept for the caller', async () => {
    const value = await createSecretManagerSource(configFor(), FAST).read('delegate-token');
    expect(value.toString()).toBe(`${TOKEN}\n`);
    const last = google.requests.at(-1);
    expect(last?.path).toBe('/v1/projects/acme-prod/secrets/delegate-token/versions/latest:access');
  });

  it('reads name@version, a full secret name and a full version name', async () => {
    const source = createSecretManagerSource(configFor(), FAST);
    expect((await source.read('delegate-token@1')).toString()).toBe('old-token\n');
    expect((await source.read('projects/other-proj/secrets/pool-yaml')).toString()).toBe('version: "1"\n');
    expect((await source.read('projects/acme-prod/secrets/delegate-token/versions/2')).toString()).toBe(
      `${TOKEN}\n`,
    );
    expect((await source.read('binary')).equals(Buffer.from([0, 255, 1, 254]))).toBe(true);
  });

  it('sends no real credential, only the placeholder token', async () => {
    await createSecretManagerSource(configFor(), FAST).read('delegate-token');
    const auth = new Set(google.requests.map((r) => r.authorization));
    expect([...auth]).toEqual([`Bearer ${NO_CREDENTIALS_TOKEN}`]);
  });

  it('refuses a payload whose CRC32C does not match, without showing the value', async () => {
    const error = await codedError(createSecretManagerSource(configFor(), FAST).read('corrupted'));
    expect(error.code).toBe('SECRET_CHECKSUM');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('corrupted');
    expect(error.message).toContain('CRC32C');
    expect(`${error.message}${error.detail ?? ''}`).not.toContain(TOKEN);
  });

  it('accepts a payload sent without a checksum', async () => {
    expect((await createSecretManagerSource(configFor(), FAST).read('unchecked')).toString()).toBe(
      'no checksum here',
    );
  });

  it('says a missing secret does not exist and how to create it', async () => {
    const error = await codedError(createSecretManagerSource(configFor(), FAST).read('nope'));
    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.message).toContain('projects/acme-prod/secrets/nope/versions/latest');
    expect(error.message).toContain('gcloud secrets create nope --project acme-prod');
    const version = await codedError(createSecretManagerSource(configFor(), FAST).read('delegate-token@9'));
    expect(version.code).toBe('SECRET_NOT_FOUND');
  });

  it('names the missing permission and the reference when access is denied', async () => {
    const error = await codedError(createSecretManagerSource(configFor(), FAST).read('forbidden'));
    expect(error.code).toBe('SECRET_PERMISSION_DENIED');
    expect(error.message).toContain('secretmanager.versions.access');
    expect(error.message).toContain('projects/acme-prod/secrets/forbidden/versions/latest');
    expect(error.message).toContain('roles/secretmanager.secretAccessor');
  });

  it('explains disabled and destroyed versions and how to fix them', async () => {
    const source = createSecretManagerSource(configFor(), FAST);
    const disabled = await codedError(source.read('rotated@1'));
    expect(disabled.code).toBe('SECRET_DISABLED');
    expect(disabled.message).toContain('rotated@1');
    expect(disabled.message).toContain(
      'gcloud secrets versions enable 1 --secret rotated --project acme-prod',
    );
    const destroyed = await codedError(source.read('rotated'));
    expect(destroyed.code).toBe('SECRET_DISABLED');
    expect(destroyed.message).toContain('another version');
  });

  it('tells how to give the bot credentials when Google rejects them', async () => {
    const error = await codedError(createSecretManagerSource(configFor(), FAST).read('expired-login'));
    expect(error.code).toBe('SECRET_PERMISSION_DENIED');
    expect(error.message).toContain('expired-login');
    expect(error.message).toContain('Application Default Credentials');
  });

  it('marks an unavailable Secret Manager as worth retrying', async () => {
    const error = await codedError(createSecretManagerSource(configFor(), FAST).read('flaky'));
    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(error.retryable).toBe(true);
  });

  it('refuses a bare name when GCP_PROJECT is not set, saying what to set', async () => {
    const config = loadConfig({ SECRET_MANAGER_API_URL: google.url }, { dotEnv: false });
    const before = google.requests.length;
    const error = await codedError(createSecretManagerSource(config, FAST).read('delegate-token'));
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toContain('GCP_PROJECT');
    expect(error.message).toContain('projects/PROJECT/secrets/delegate-token');
    expect(google.requests.length).toBe(before);
  });

  it('uses one client per service for the whole process', async () => {
    const config = configFor();
    expect(await secretManagerClient(config)).toBe(await secretManagerClient(configFor()));
    expect(await computeClient(config)).toBe(await computeClient(configFor()));
    expect(await computeClient(config)).not.toBe(await secretManagerClient(config));
  });
});

describe('parseSecretRef', () => {
  it('fills in the default project and version', () => {
    expect(parseSecretRef('pool', 'acme-prod')).toEqual({
      project: 'acme-prod',
      secret: 'pool',
      version: 'latest',
      name: 'projects/acme-prod/secrets/pool/versions/latest',
    });
    expect(parseSecretRef('pool@3', 'acme-prod').name).toBe('projects/acme-prod/secrets/pool/versions/3');
    expect(parseSecretRef('projects/123456/secrets/pool', undefined).name).toBe(
      'projects/123456/secrets/pool/versions/latest',
    );
  });

  it.each([
    ['projects/acme-prod/pool', 'projects/PROJECT/secrets/NAME'],
    ['pool@', 'a version is'],
    ['bad name!', 'a secret name is'],
    ['file:/etc/passwd', 'file: and env:'],
    ['projects/Bad_Project/secrets/pool', 'is not a project'],
  ])('explains why %s is not a reference', (ref, why) => {
    expect(() => parseSecretRef(ref, 'acme-prod')).toThrow(why);
  });
});
