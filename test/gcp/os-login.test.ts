/**
 * The bot's key put into its own identity's OS Login profile through Google's OS Login client, against
 * the fake OS Login API, and who the bot is: the service account its credentials name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createOsLoginApi } from '../../src/gcp/clients.js';
import { createOsLoginKeys, credentialsEmail } from '../../src/gcp/os-login.js';
import { codedError } from '../support/coded-error.js';
import { ed25519HostKey, type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { writeServiceAccountKey, writeUserCredentials } from '../support/service-account-key.js';

const BOT = 'gitspaces-bot@acme-prod.iam.gserviceaccount.com';
const FAST = { deadlineMs: 5_000, retryDelaysMs: [100], budgetMs: 8_000 };
const key = ed25519HostKey();

let google: FakeGoogle;
let api: Awaited<ReturnType<typeof createOsLoginApi>>;
let dir: string;

const config = (env: Record<string, string> = {}) =>
  loadConfig({ OS_LOGIN_API_URL: google.url, ...env }, { dotEnv: false });
const keysAs = (email: string) =>
  createOsLoginKeys(config(), { client: api, identity: async () => email, callPolicy: FAST });
const imports = () => google.requests.filter((r) => r.path.endsWith(':importSshPublicKey'));

beforeAll(async () => {
  google = await startFakeGoogle();
  google.osLogin.addIdentity(BOT, 'sa_107331024957294520000');
  api = await createOsLoginApi(google.url, 5_000);
  dir = mkdtempSync(join(tmpdir(), 'gsb-oslogin-'));
}, 60_000);

afterAll(async () => {
  await api?.close();
  await google?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the bot's key in its OS Login profile", () => {
  it('is not added without the right to write', async () => {
    expect(await keysAs(BOT)('acme-prod', key, false)).toBeUndefined();
    expect(imports()).toHaveLength(0);
  });

  it('is imported for the project, and logs in as the POSIX user OS Login gives', async () => {
    const place = await keysAs(BOT)('acme-prod', key, true);
    expect(place).toMatchObject({
      how: 'added',
      user: 'sa_107331024957294520000',
      place: `the OS Login profile of ${BOT}`,
    });
    // A VM that still refuses the key then is refusing the identity: the roles are named, not the guest agent.
    expect(place?.stillRefused).toContain(`OS Login lets ${BOT} in only with roles/compute.osAdminLogin`);
    expect(place?.stillRefused).toContain('roles/iam.serviceAccountUser');
    const [request] = imports();
    expect(request?.path).toBe(`/v1/users/${BOT}:importSshPublicKey`);
    expect(request?.query.projectId).toBe('acme-prod');
    expect(request?.body).toEqual({ key: `${key.type} ${key.base64}` });
    expect(google.osLogin.keysOf('sa_107331024957294520000')).toEqual([`${key.type} ${key.base64}`]);
  });

  it('is found the next time, for reads too, without importing it again', async () => {
    const found = { how: 'present', user: 'sa_107331024957294520000' };
    expect(await keysAs(BOT)('acme-prod', key, true)).toMatchObject(found);
    expect(await keysAs(BOT)('acme-prod', key, false)).toMatchObject(found);
    expect(imports()).toHaveLength(1);
  });

  it('is imported again for a project where the identity has no POSIX account yet', async () => {
    expect(await keysAs(BOT)('acme-staging', key, true)).toMatchObject({ how: 'added' });
    expect(imports()).toHaveLength(2);
  });

  it('says what OS Login answered when it refuses the profile', async () => {
    const error = await codedError(
      keysAs('someone-else@acme-prod.iam.gserviceaccount.com')('acme-prod', key, true),
    );
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain(
      'OS Login refused reading the OS Login profile for someone-else@acme-prod.iam.gserviceaccount.com',
    );
    expect(error.message).toContain('The caller does not have permission');
    expect(error.message).toContain('gcloud compute os-login ssh-keys add');
  });
});

describe("the bot's identity", () => {
  it("is the service account of its credentials' key file", async () => {
    const file = writeServiceAccountKey(dir, BOT);
    expect(await credentialsEmail(config({ GOOGLE_APPLICATION_CREDENTIALS: file }))()).toBe(BOT);
  });

  it("cannot be a person's credentials, and says to run as a service account", async () => {
    const file = writeUserCredentials(dir);
    const error = await codedError(credentialsEmail(config({ GOOGLE_APPLICATION_CREDENTIALS: file }))());
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain('runs with user credentials');
    expect(error.message).toContain('Run the bot as a service account');
  });
});
