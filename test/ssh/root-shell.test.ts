import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectedHost } from '../../src/setup/ports.js';
import { Redactor } from '../../src/setup/redactor.js';
import { VmShell } from '../../src/setup/vm-shell.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { startSshd, type TestSshd } from '../support/sshd.js';
import { NOSUDO_USER, runningAsRoot } from '../support/vm-users.js';

const connect = (sshd: TestSshd) =>
  connectSsh({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    pin: pinKeys(sshd.hostKeys, 'the test sshd'),
  });

describe.skipIf(!runningAsRoot())('privileged commands of a sudo user', () => {
  let sshd: TestSshd;
  let session: ConnectedHost;
  beforeAll(async () => {
    sshd = await startSshd();
    session = await connect(sshd);
  });
  afterAll(async () => {
    await session?.remote.close();
    await sshd?.stop();
  });

  it('run as root, one after another and at once, each with its own exit code and output', async () => {
    const vm = new VmShell(session.remote, new Redactor());
    expect((await vm.run(['id', '-u'], { root: true })).stdout).toBe('0\n');
    expect((await vm.run(['id', '-u'])).stdout).not.toBe('0\n');
    const together = await Promise.all(
      [1, 2, 3].map((n) => vm.script(`id -u; echo ${n} >&2; exit ${n}`, { root: true, allowFail: true })),
    );
    expect(together.map((r) => [r.code, r.stdout, r.stderr])).toEqual([
      [1, '0\n', '1\n'],
      [2, '0\n', '2\n'],
      [3, '0\n', '3\n'],
    ]);
  });
});

describe.skipIf(!runningAsRoot())('privileged commands of a user without sudo', () => {
  let sshd: TestSshd;
  let session: ConnectedHost;
  beforeAll(async () => {
    sshd = await startSshd({ user: NOSUDO_USER });
    session = await connect(sshd);
  });
  afterAll(async () => {
    await session?.remote.close();
    await sshd?.stop();
  });

  it('fail as sudo refusing them, whichever way they are sent', async () => {
    const vm = new VmShell(session.remote, new Redactor());
    await expect(vm.run(['id', '-u'], { root: true })).rejects.toMatchObject({ code: 'SUDO_REQUIRED' });
    await expect(vm.assertSudo()).rejects.toMatchObject({ code: 'SUDO_REQUIRED' });
    expect((await vm.run(['id', '-un'])).stdout).toBe(`${NOSUDO_USER}\n`);
  });
});
