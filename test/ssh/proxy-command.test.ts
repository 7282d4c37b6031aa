/**
 * SSH_PROXY_COMMAND against real OpenSSH: the VM is reached through another sshd as a bastion
 * (`ssh -W {host}:{port}`), as a VM without a routable address is; a failing command says why.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectOptions } from '../../src/setup/ports.js';
import { sshConnector } from '../../src/ssh/connect.js';
import { fingerprint } from '../../src/ssh/host-key.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { proxyRoute } from '../../src/ssh/proxy-command.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let vm: TestSshd;
let bastion: TestSshd;
let dir: string;
/** A bastion command that records its arguments and pid, then carries the session with `ssh -W`. */
let viaBastion: string;

beforeAll(async () => {
  [vm, bastion] = await Promise.all([startSshd(), startSshd()]);
  dir = mkdtempSync(join(tmpdir(), 'gsb-proxy-'));
  const key = join(dir, 'bastion-key');
  writeFileSync(key, bastion.privateKey, { mode: 0o600 });
  const script = join(dir, 'via-bastion.sh');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `printf '%s\\n' "$@" > '${dir}/args'`,
      `echo $$ > '${dir}/pid'`,
      `exec ssh -q -i '${key}' -o BatchMode=yes -o UserKnownHostsFile='${bastion.knownHostsFile}' \\`,
      `  -o StrictHostKeyChecking=yes -p ${bastion.port} -W "$4:$5" ${bastion.user}@127.0.0.1`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  viaBastion = `${script} {vm} {zone} {project} {host} {port} {user}`;
});

afterAll(async () => {
  await Promise.all([vm?.stop(), bastion?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const options = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  host: vm.host,
  port: vm.port,
  user: vm.user,
  privateKey: vm.privateKey,
  pin: pinKeys(vm.hostKeys, 'the VM'),
  vm: { name: 'gitspaces-runner', zone: 'us-central1-a', project: 'my project' },
  ...extra,
});

const through = (command: string) => sshConnector(proxyRoute({ command, env: process.env }));

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the connection to fail'),
    (error: unknown) => error as Error & { code: string; retryable?: boolean },
  );

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('SSH through SSH_PROXY_COMMAND', () => {
  it('runs commands on the VM through a bastion, with the VM’s host key pinned end to end', async () => {
    const logins = () => vm.log().split('Accepted publickey').length - 1;
    const before = { vm: logins(), bastion: bastion.log().split('Accepted publickey').length - 1 };
    const session = await through(viaBastion)(options());
    const result = await session.remote.exec('id -un');
    expect(result.stdout.trim()).toBe(vm.user);
    expect(vm.hostKeys.map(fingerprint)).toContain(fingerprint(session.hostKey));
    expect(session.via).toBe('through SSH_PROXY_COMMAND');
    expect(logins()).toBe(before.vm + 1);
    expect(bastion.log().split('Accepted publickey').length - 1).toBe(before.bastion + 1);
    // Each placeholder arrives as one argument, a value with a space too.
    expect(readFileSync(join(dir, 'args'), 'utf8').split('\n').slice(0, 6)).toEqual([
      'gitspaces-runner',
      'us-central1-a',
      'my project',
      vm.host,
      String(vm.port),
      vm.user,
    ]);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    await session.remote.close();
    // The proxy ends with the session: nothing is left running.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('fails a command at once, as a lost connection, when the proxy dies under the session', async () => {
    const session = await through(viaBastion)(options());
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    const error = await refusal(session.remote.exec('sleep 30'));
    expect(error.code).toBe('SSH_DISCONNECTED');
    expect(error.retryable).toBe(true);
    await session.remote.close();
  });

  it('refuses a VM whose host key differs from the pinned one, through the proxy too', async () => {
    const error = await refusal(through(viaBastion)(options({ pin: pinKeys(bastion.hostKeys, 'x') })));
    expect(error.code).toBe('HOST_KEY_MISMATCH');
  });

  it('says how the command failed, with what it printed, when it ends before the session opens', async () => {
    const gcloud = join(dir, 'iap-refused.sh');
    writeFileSync(
      gcloud,
      '#!/bin/sh\necho "ERROR: (gcloud.compute.start-iap-tunnel) Error while connecting [4033: \'not authorized\']." >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const error = await refusal(through(`${gcloud} {vm} {port}`)(options()));
    expect(error.code).toBe('SSH_CONNECT_FAILED');
    expect(error.message).toContain(
      'SSH_PROXY_COMMAND exited with code 1 before the SSH session to gitspaces-runner',
    );
    expect(error.message).toContain("[4033: 'not authorized']");
    expect(error.message).toContain('roles/iap.tunnelResourceAccessor');
  });

  it('says so when the command is not installed', async () => {
    const error = await refusal(
      through('gcloud-not-installed compute start-iap-tunnel {vm} {port}')(options()),
    );
    expect(error.message).toMatch(/exited with code 127 .*gcloud-not-installed.*not found/);
  });

  it('names a placeholder it cannot fill, for a VM given by address', async () => {
    const byAddress = options({ vm: { name: 'vm-cli' } });
    const error = await refusal(through(`${join(dir, 'never-run')} {vm} {zone}`)(byAddress));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('SSH_PROXY_COMMAND names {zone}, which is not known for vm-cli');
    expect(existsSync(join(dir, 'never-run'))).toBe(false);
  });
});
