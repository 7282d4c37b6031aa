/**
 * A VM that does not know the bot's key yet, set up from a terminal by name: the bot adds its key to the
 * VM's ssh-keys metadata through Google's Compute client (at the fake Compute API), the VM's guest agent
 * (a stand-in) lets it in a moment later, and the run goes on as the non-root user the agent let in.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyLine } from '../../src/gcp/ssh-keys.js';
import { publicKeyOf } from '../../src/ssh/private-key.js';
import { runCli } from '../support/cli-run.js';
import { ed25519HostKey, type FakeGoogle } from '../support/fake-google.js';
import { type GuestAgent, startGuestAgent } from '../support/guest-agent.js';
import type { TestSshd } from '../support/sshd.js';
import { PROJECT, startTerminalVm, type TerminalVm, ZONE } from '../support/terminal-vm.js';

const VM = `${PROJECT}/${ZONE}/fresh-runner`;
const alice = ed25519HostKey();
const ALICE = `alice:${alice.type} ${alice.base64} alice@laptop`;

let vm: TerminalVm;
let sshd: TestSshd;
let google: FakeGoogle;
let agent: GuestAgent;
let env: NodeJS.ProcessEnv;

const writes = () => google.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/setMetadata'));

beforeAll(async () => {
  vm = await startTerminalVm();
  ({ sshd, google } = vm);
  // The VM knows alice's key only: the bot's is refused until the guest agent has applied the metadata.
  writeFileSync(join(sshd.dir, 'authorized_keys'), '');
  google.addVm(VM, {
    internalIp: '127.0.0.1',
    hostKeys: sshd.hostKeys,
    metadata: { 'enable-guest-attributes': 'TRUE', 'ssh-keys': ALICE },
    operationMs: 800,
  });
  agent = startGuestAgent(google, VM, sshd, { delayMs: 1500 });
  env = vm.env({ SSH_USER: sshd.user, SSH_PORT: String(sshd.port) });
}, 120_000);

afterAll(async () => {
  agent?.stop();
  await vm?.stop();
});

describe("a VM that refuses the bot's key", () => {
  it('is not changed by plan, which says that setup would add the key', async () => {
    const run = await runCli(['plan', 'fresh-runner'], env);
    expect(run.code).toBe(1);
    expect(`${run.out}${run.err}`).toContain(
      `SSH login as ${sshd.user} to 127.0.0.1:${sshd.port} was refused`,
    );
    expect(`${run.out}${run.err}`).toContain('Setup lets the key in itself (SSH_AUTHORIZE_KEY=auto)');
    expect(writes()).toHaveLength(0);
  });

  it('is not changed with SSH_AUTHORIZE_KEY=off', async () => {
    const run = await runCli(['setup', 'fresh-runner', '--yes'], { ...env, SSH_AUTHORIZE_KEY: 'off' });
    expect(run.code).toBe(1);
    expect(`${run.out}${run.err}`).toContain('was refused');
    expect(writes()).toHaveLength(0);
  });

  it('gets the key through its metadata, and is set up from bare to healthy', async () => {
    const run = await runCli(['setup', 'fresh-runner', '--yes'], env);
    expect(run.code, `${run.out}${run.err}`).toBe(0);
    expect(run.out).toContain(
      `The VM refused the bot's key for ${sshd.user}: added it to the VM's ssh-keys metadata; waiting for the VM to let it in as ${sshd.user}.`,
    );
    expect(run.out).toContain(`key added to the VM's ssh-keys metadata for ${sshd.user}`);
    expect(run.out).toContain('fresh-runner is set up');
    expect(run.out).toMatch(/✓ delegate-health/);
    // alice's line stays; the bot's follows it, its public half only.
    const line = keyLine(sshd.user, publicKeyOf(sshd.privateKey));
    expect(google.metadataOf(VM)['ssh-keys']).toBe(`${ALICE}\n${line}`);
    expect(writes()).toHaveLength(1);
    expect(agent.applied()).toBeGreaterThan(0);
    expect(JSON.stringify(google.requests.map((r) => r.body))).not.toContain('PRIVATE KEY');
  });

  it('finds everything in place the next time, the key included', async () => {
    const run = await runCli(['setup', 'fresh-runner', '--yes'], env);
    expect(run.code, `${run.out}${run.err}`).toBe(0);
    expect(run.out).not.toContain('refused');
    expect(writes()).toHaveLength(1);
  });
});
