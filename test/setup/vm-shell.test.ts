import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult, RemoteHost } from '../../src/setup/ports.js';
import { Redactor } from '../../src/setup/redactor.js';
import { VmShell } from '../../src/setup/vm-shell.js';

function remoteAs(user: string, answer: Partial<ExecResult> = {}) {
  const commands: string[] = [];
  const remote: RemoteHost = {
    user,
    async exec(command: string, _options?: ExecOptions) {
      commands.push(command);
      return { code: 0, signal: undefined, stdout: '', stderr: '', ...answer };
    },
    async putFile() {},
    async close() {},
  };
  return { remote, commands };
}

describe('commands on the VM', () => {
  it('runs privileged commands through sudo -n when the SSH user is not root, quoting every argument', async () => {
    const { remote, commands } = remoteAs('gitspaces');
    await new VmShell(remote, new Redactor()).run(['printf', '%s|', "it's", 'a b', '$HOME'], { root: true });
    const wrapped = commands[0] ?? '';
    expect(wrapped).toMatch(/^sudo -n sh -c '/);
    // What sudo would run, run by a shell: the arguments arrive intact.
    const asSudo = execFileSync('sh', ['-c', `sudo() { shift; "$@"; }; ${wrapped}`], { encoding: 'utf8' });
    expect(asSudo).toBe("it's|a b|$HOME|");
  });

  it('runs a whole compound script as root, not only its first command', async () => {
    const { remote, commands } = remoteAs('gitspaces');
    await new VmShell(remote, new Redactor()).script('mkdir -p /runner && install -m 0600 /tmp/a /runner/b', {
      root: true,
    });
    expect(commands).toEqual([`sudo -n sh -c 'mkdir -p /runner && install -m 0600 /tmp/a /runner/b'`]);
  });

  it('refuses a user without passwordless sudo before running anything else', async () => {
    const { remote, commands } = remoteAs('gitspaces', { code: 1, stderr: 'sudo: a password is required\n' });
    await expect(new VmShell(remote, new Redactor()).assertSudo()).rejects.toMatchObject({
      code: 'SUDO_REQUIRED',
      message: expect.stringContaining('Nothing was changed'),
    });
    expect(commands).toEqual(['sudo -n true']);
  });

  it('runs them directly as root', async () => {
    const { remote, commands } = remoteAs('root');
    await new VmShell(remote, new Redactor()).run(['docker', 'info'], { root: true });
    expect(commands).toEqual([`'docker' 'info'`]);
  });

  it('says the SSH user needs passwordless sudo when sudo asks for a password', async () => {
    const { remote } = remoteAs('gitspaces', { code: 1, stderr: 'sudo: a password is required\n' });
    await expect(
      new VmShell(remote, new Redactor()).run(['docker', 'info'], { root: true }),
    ).rejects.toMatchObject({
      code: 'SUDO_REQUIRED',
      message: expect.stringContaining('passwordless sudo'),
    });
  });

  it('reports a failure with its exit code and redacted output', async () => {
    const { remote } = remoteAs('root', {
      code: 125,
      stderr: 'docker: Error with s3cr3t-t0ken-value inside',
    });
    const shell = new VmShell(remote, new Redactor().add('s3cr3t-t0ken-value'));
    await expect(shell.run(['docker', 'run', '-d', 'x'])).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('exited with code 125'),
      detail: 'docker: Error with *** inside',
    });
  });
});
