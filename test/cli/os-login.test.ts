/**
 * A VM with OS Login on, set up from a terminal by name: metadata keys count for nothing there, so the bot
 * puts its key into its own service account's OS Login profile through Google's OS Login client (at the
 * fake OS Login API), and logs in as the POSIX user OS Login gives that account (the test VM's sudo user),
 * not as SSH_USER. Status then finds that user again without changing anything.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import type { FakeGoogle } from '../support/fake-google.js';
import { type GuestAgent, startGuestAgent } from '../support/guest-agent.js';
import { writeServiceAccountKey } from '../support/service-account-key.js';
import type { TestSshd } from '../support/sshd.js';
import { PROJECT, startTerminalVm, type TerminalVm, ZONE } from '../support/terminal-vm.js';

const VM = `${PROJECT}/${ZONE}/oslogin-runner`;
const BOT = 'gitspaces-bot@gitspaces-prod.iam.gserviceaccount.com';

let vm: TerminalVm;
let sshd: TestSshd;
let google: FakeGoogle;
let agent: GuestAgent;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  vm = await startTerminalVm();
  ({ sshd, google } = vm);
  writeFileSync(join(sshd.dir, 'authorized_keys'), '');
  google.addVm(VM, {
    internalIp: '127.0.0.1',
    hostKeys: sshd.hostKeys,
    metadata: { 'enable-guest-attributes': 'TRUE' },
  });
  // OS Login is on for the whole project, as an organization policy turns it on.
  google.setProjectMetadata(PROJECT, { 'enable-oslogin': 'TRUE' });
  // OS Login names the bot's service account as the test VM's sudo user (sa_<id> on Google).
  google.osLogin.addIdentity(BOT, sshd.user);
  agent = startGuestAgent(google, VM, sshd, { delayMs: 500 });
  // SSH_USER stays the default (gitspaces), which this VM does not know.
  env = vm.env({
    OS_LOGIN_API_URL: google.url,
    GOOGLE_APPLICATION_CREDENTIALS: writeServiceAccountKey(vm.dir, BOT),
    SSH_PORT: String(sshd.port),
  });
}, 120_000);

afterAll(async () => {
  agent?.stop();
  await vm?.stop();
});

const imports = () => google.requests.filter((r) => r.path.endsWith(':importSshPublicKey'));
const metadataWrites = () => google.requests.filter((r) => r.path.endsWith('/setMetadata'));

describe('a VM with OS Login on', () => {
  it('says, for status before any setup, that setup would let the key in', async () => {
    const run = await runCli(['status', 'oslogin-runner'], env);
    expect(run.code).not.toBe(0);
    expect(run.err).toContain('Setup lets the key in itself (SSH_AUTHORIZE_KEY=auto)');
    expect(imports()).toHaveLength(0);
  });

  it("gets the key through the bot's OS Login profile and is set up as that profile's user", async () => {
    const run = await runCli(['setup', 'oslogin-runner', '--yes'], env);
    expect(run.code, `${run.out}${run.err}`).toBe(0);
    expect(run.out).toContain(
      `The VM refused the bot's key for gitspaces: added it to the OS Login profile of ${BOT}; waiting for the VM to let it in as ${sshd.user}.`,
    );
    expect(run.out).toContain(`${sshd.user}@127.0.0.1:${sshd.port}, host key matches`);
    expect(run.out).toContain(`key added to the OS Login profile of ${BOT} for ${sshd.user}`);
    expect(run.out).toMatch(/✓ delegate-health/);
    expect(imports()).toHaveLength(1);
    // Metadata keys would count for nothing here: none was written.
    expect(metadataWrites()).toHaveLength(0);
    expect(google.metadataOf(VM)['ssh-keys']).toBeUndefined();
  });

  it('is found again by status, as the same user, without importing anything', async () => {
    const run = await runCli(['status', 'oslogin-runner'], env);
    expect(run.code, `${run.out}${run.err}`).toBe(0);
    expect(run.out).toMatch(/runner: vm-runner: running .*healthy/);
    expect(imports()).toHaveLength(1);
  });

  it('is set up again with nothing to change', async () => {
    const run = await runCli(['setup', 'oslogin-runner', '--yes'], env);
    expect(run.code, `${run.out}${run.err}`).toBe(0);
    expect(run.out).toContain(`which the OS Login profile of ${BOT} holds: logging in as ${sshd.user}`);
    expect(run.out).toMatch(/= connect +unchanged/);
    expect(imports()).toHaveLength(1);
  });

  it('stops at once on a VM that takes only security keys, saying which switch to turn off there', async () => {
    google.addVm(`${PROJECT}/${ZONE}/sk-runner`, {
      internalIp: '127.0.0.1',
      hostKeys: sshd.hostKeys,
      metadata: { 'enable-guest-attributes': 'TRUE', 'enable-oslogin-sk': 'TRUE' },
    });
    const before = imports().length;
    const run = await runCli(['setup', 'sk-runner', '--yes'], env);
    expect(run.code).not.toBe(0);
    expect(`${run.out}${run.err}`).toContain(
      `VM sk-runner has OS Login with enable-oslogin-sk=TRUE (on the VM): it lets in only keys held on a physical security key`,
    );
    expect(`${run.out}${run.err}`).toContain('--metadata enable-oslogin-sk=FALSE');
    expect(run.out).not.toContain('waiting for the VM to let it in');
    expect(imports()).toHaveLength(before);
  });
});
