/**
 * The bot's key added to a VM's ssh-keys metadata through Google's own Compute client, against the fake
 * Compute API: what stays, what is written, and what happens when someone else writes meanwhile, OS Login
 * is on (the key goes to OS Login, through its own client at the fake), or the bot may not write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createComputeApi, createOsLoginApi } from '../../src/gcp/clients.js';
import { createOsLoginKeys } from '../../src/gcp/os-login.js';
import { createMetadataKeys, keyLine } from '../../src/gcp/ssh-keys.js';
import { codedError } from '../support/coded-error.js';
import { ed25519HostKey, type FakeGoogle, manualClock, startFakeGoogle } from '../support/fake-google.js';

const P = 'acme-prod';
const Z = 'us-central1-a';
const FAST = { deadlineMs: 5_000, retryDelaysMs: [100], budgetMs: 8_000 };
const key = ed25519HostKey();
const someoneElse = ed25519HostKey();
const at = (name: string) => ({ project: P, zone: Z, name });
const ref = (name: string) => `${P}/${Z}/${name}`;

let google: FakeGoogle;
let api: Awaited<ReturnType<typeof createComputeApi>>;
const clock = manualClock(Date.UTC(2026, 11, 4));

const BOT = 'gitspaces-bot@acme-prod.iam.gserviceaccount.com';
let osLoginApi: Awaited<ReturnType<typeof createOsLoginApi>>;

function keys(client = api) {
  const config = loadConfig({ COMPUTE_API_URL: google.url, OS_LOGIN_API_URL: google.url }, { dotEnv: false });
  const osLogin = createOsLoginKeys(config, {
    client: osLoginApi,
    identity: async () => BOT,
    callPolicy: FAST,
  });
  return createMetadataKeys(config, { client, clock, callPolicy: FAST, operationPollMs: 100, osLogin });
}

const writes = (name: string) =>
  google.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/instances/${name}/setMetadata`));

beforeAll(async () => {
  google = await startFakeGoogle({ now: clock.now });
  api = await createComputeApi(google.url, 5_000);
  osLoginApi = await createOsLoginApi(google.url, 5_000);
  google.osLogin.addIdentity(BOT, 'sa_107331024957294520000');
  const existing = `alice:${someoneElse.type} ${someoneElse.base64} alice@laptop`;
  google
    .addVm(ref('runner'), {
      metadata: { 'enable-guest-attributes': 'TRUE', 'ssh-keys': existing, 'startup-script': 'echo hi' },
      operationMs: 2_500,
    })
    .addVm(ref('bare'), { metadata: {} })
    .addVm(ref('busy'), { metadata: { 'ssh-keys': existing } })
    .addVm(ref('legacy'), { metadata: { sshKeys: `gitspaces:${key.type} ${key.base64}` } })
    .addVm(ref('expired'), {
      metadata: {
        'ssh-keys': `gitspaces:${key.type} ${key.base64} google-ssh {"userName":"gitspaces","expireOn":"2026-01-01T00:00:00+0000"}`,
      },
    })
    .addVm(ref('os-login'), { metadata: { 'enable-oslogin': 'TRUE' } })
    .addVm(ref('denied'), { metadata: {} })
    .fail('/instances/denied/setMetadata', {
      status: 403,
      message:
        "Required 'compute.instances.setMetadata' permission for 'projects/acme-prod/zones/us-central1-a/instances/denied'",
    });
  google.addVm('os-login-project/us-east1-b/vm', { metadata: {} });
  google.setProjectMetadata('os-login-project', { 'enable-oslogin': 'true' });
  google.addVm('os-login-project/us-east1-b/opted-out', { metadata: { 'enable-oslogin': 'FALSE' } });
  google.addVm(ref('security-keys'), { metadata: { 'enable-oslogin': 'TRUE', 'enable-oslogin-sk': 'True' } });
  google.setProjectMetadata('cert-project', {
    'enable-oslogin': 'TRUE',
    'enable-oslogin-certificates': 'TRUE',
  });
  google.addVm('cert-project/us-east1-b/vm', { metadata: {} });
  google.addVm('cert-project/us-east1-b/own-choice', {
    metadata: { 'enable-oslogin-certificates': 'FALSE' },
  });
  // OS Login on the VM itself, and a project whose metadata the bot may not read.
  google.addVm('closed-project/us-east1-b/vm', { metadata: { 'enable-oslogin': 'TRUE' } });
  google.fail(/^\/compute\/v1\/projects\/closed-project$/, {
    status: 403,
    message: "Required 'compute.projects.get' permission for 'projects/closed-project'",
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await osLoginApi?.close();
  await google?.close();
});

describe("adding the bot's key to a VM's ssh-keys metadata", () => {
  it('appends its line, keeps every other line and item, and waits for the operation', async () => {
    const started = clock.now();
    expect(await keys().add(at('runner'), 'gitspaces', key, true)).toMatchObject({ how: 'added' });
    const metadata = google.metadataOf(ref('runner'));
    expect(metadata['ssh-keys']?.split('\n')).toEqual([
      `alice:${someoneElse.type} ${someoneElse.base64} alice@laptop`,
      `gitspaces:${key.type} ${key.base64} gitspaces-bot`,
    ]);
    expect(metadata['startup-script']).toBe('echo hi');
    expect(metadata['enable-guest-attributes']).toBe('TRUE');
    // The operation stays RUNNING for 2.5 s: it was asked for until DONE.
    expect(clock.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(google.requests.some((r) => r.path.includes(`/zones/${Z}/operations/`))).toBe(true);
  });

  it('writes nothing when the line is there already, and finds it without the right to write', async () => {
    const before = writes('runner').length;
    const present = { how: 'present', user: 'gitspaces', place: "the VM's ssh-keys metadata" };
    expect(await keys().add(at('runner'), 'gitspaces', key, true)).toEqual(present);
    expect(await keys().add(at('runner'), 'gitspaces', key, false)).toEqual(present);
    expect(writes('runner').length).toBe(before);
  });

  it('writes nothing without the right to write, when the line is missing', async () => {
    expect(await keys().add(at('runner'), 'someone', key, false)).toBeUndefined();
    expect(google.metadataOf(ref('runner'))['ssh-keys']).not.toContain('someone:');
  });

  it('creates ssh-keys on a VM that has none', async () => {
    expect(await keys().add(at('bare'), 'gitspaces', key, true)).toMatchObject({ how: 'added' });
    expect(google.metadataOf(ref('bare'))).toEqual({ 'ssh-keys': keyLine('gitspaces', key) });
  });

  it('reads again and keeps the other change when someone wrote between its read and its write', async () => {
    // Another writer (a person, Terraform) changes the metadata right before the bot's write lands.
    const racing = {
      ...api,
      setMetadata: (request: Parameters<typeof api.setMetadata>[0]) => {
        if (writes('busy').length === 0) google.changeMetadata(ref('busy'), { 'startup-script': 'new' });
        return api.setMetadata(request);
      },
    };
    expect(await keys(racing).add(at('busy'), 'gitspaces', key, true)).toMatchObject({ how: 'added' });
    expect(writes('busy').map((r) => r.status)).toEqual([412, 200]);
    const metadata = google.metadataOf(ref('busy'));
    expect(metadata['startup-script']).toBe('new');
    expect(metadata['ssh-keys']).toContain('alice@laptop');
    expect(metadata['ssh-keys']).toContain(keyLine('gitspaces', key));
  });

  it('counts a key in the legacy sshKeys item, and adds one whose google-ssh expiry has passed', async () => {
    expect(await keys().add(at('legacy'), 'gitspaces', key, true)).toMatchObject({ how: 'present' });
    expect(await keys().add(at('expired'), 'gitspaces', key, true)).toMatchObject({ how: 'added' });
    expect(google.metadataOf(ref('expired'))['ssh-keys']?.split('\n')).toHaveLength(2);
  });

  it('counts only a line for the same user', async () => {
    expect(await keys().add(at('runner'), 'deploy', key, true)).toMatchObject({ how: 'added' });
  });

  it("writes no metadata on a VM with OS Login on: the key goes to the bot's OS Login profile", async () => {
    const profile = { user: 'sa_107331024957294520000', place: `the OS Login profile of ${BOT}` };
    expect(await keys().add(at('os-login'), 'gitspaces', key, true)).toMatchObject({
      how: 'added',
      ...profile,
    });
    const byProject = { project: 'os-login-project', zone: 'us-east1-b', name: 'vm' };
    expect(await keys().add(byProject, 'gitspaces', key, false)).toBeUndefined();
    expect(await keys().add(byProject, 'gitspaces', key, true)).toMatchObject({ how: 'added', ...profile });
    expect(writes('os-login')).toHaveLength(0);
    expect(writes('vm')).toHaveLength(0);
  });

  it("follows the VM's own enable-oslogin=FALSE over its project's TRUE", async () => {
    const vm = { project: 'os-login-project', zone: 'us-east1-b', name: 'opted-out' };
    expect(await keys().add(vm, 'gitspaces', key, true)).toMatchObject({ how: 'added' });
  });

  it('says which switch shuts the bot out of an OS Login VM, and how to turn it off there, before importing anything', async () => {
    const imports = () => google.requests.filter((r) => r.path.endsWith(':importSshPublicKey')).length;
    const before = imports();
    const sk = await codedError(keys().add(at('security-keys'), 'gitspaces', key, true));
    expect(sk.code).toBe('SSH_AUTH_FAILED');
    expect(sk.message).toContain('enable-oslogin-sk=TRUE (on the VM)');
    expect(sk.message).toContain(
      `gcloud compute instances add-metadata security-keys --zone ${Z} --project ${P} --metadata enable-oslogin-sk=FALSE`,
    );
    const inProject = { project: 'cert-project', zone: 'us-east1-b', name: 'vm' };
    const certs = await codedError(keys().add(inProject, 'gitspaces', key, false));
    expect(certs.message).toContain('enable-oslogin-certificates=TRUE (on its project)');
    expect(imports()).toBe(before);
    // The VM's own FALSE wins over its project's TRUE, as the guest agent reads it.
    const ownChoice = { project: 'cert-project', zone: 'us-east1-b', name: 'own-choice' };
    expect(await keys().add(ownChoice, 'gitspaces', key, true)).toMatchObject({ how: 'added' });
  });

  it("lets the key in on a VM with OS Login on its own when the project's metadata may not be read", async () => {
    const vm = { project: 'closed-project', zone: 'us-east1-b', name: 'vm' };
    expect(await keys().add(vm, 'gitspaces', key, true)).toMatchObject({ how: 'added' });
    expect(google.requests.some((r) => r.path === '/compute/v1/projects/closed-project')).toBe(true);
  });

  it('says which roles it lacks, and the line to add by hand, when it may not write', async () => {
    const error = await codedError(keys().add(at('denied'), 'gitspaces', key, true));
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain("Required 'compute.instances.setMetadata' permission");
    expect(error.message).toContain('roles/compute.instanceAdmin.v1');
    expect(error.message).toContain('roles/iam.serviceAccountUser');
    expect(error.message).toContain(keyLine('gitspaces', key));
  });
});
