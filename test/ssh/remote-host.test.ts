import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import type { ConnectedHost } from '../../src/setup/ports.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let sshd: TestSshd;
let session: ConnectedHost;

beforeAll(async () => {
  sshd = await startSshd();
  session = await connectSsh({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    pin: pinKeys(sshd.hostKeys, 'the test sshd'),
  });
});

afterAll(async () => {
  await session?.remote.close();
  await sshd?.stop();
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition never held');
}

describe('commands over SSH', () => {
  it('returns stdout, stderr and the exit code, and streams output as it arrives', async () => {
    const streamed: string[] = [];
    const result = await session.remote.exec('echo out; echo err >&2; printf "é\\n"; exit 3', {
      onOutput: (chunk) => streamed.push(chunk),
    });
    expect(result).toMatchObject({ code: 3, signal: undefined, stdout: 'out\né\n', stderr: 'err\n' });
    expect(streamed.join('')).toContain('out\n');
    expect(streamed.join('')).toContain('err\n');
  });

  it('runs commands in a session whose PATH finds the Docker stand-in', async () => {
    const result = await session.remote.exec('docker --version');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Docker version 27.3.1');
    expect(sshd.calls()).toContainEqual(['--version']);
  });

  it('logs in as a user outside the docker group, who reaches the engine only through sudo', async () => {
    const plain = await session.remote.exec('id -u; docker ps');
    expect(plain.stdout.trim()).not.toBe('0');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('permission denied while trying to connect to the Docker daemon socket');
    const viaSudo = await session.remote.exec(`sudo -n sh -c 'docker ps --format "{{.Names}}"; id -u'`);
    expect(viaSudo).toMatchObject({ code: 0, stdout: '0\n' });
  });

  it('stops a command that outlives its timeout and says which command and how long', async () => {
    const pidFile = `${sshd.userDir}/slow.pid`;
    const error = await session.remote
      .exec(`echo $$ > ${pidFile}; while :; do echo tick; sleep 0.1; done`, { timeoutMs: 1500 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitspacesError);
    expect(error).toMatchObject({ code: 'COMMAND_TIMEOUT', retryable: true });
    expect((error as Error).message).toContain('while :; do echo tick');
    expect((error as Error).message).toContain('did not finish within 1.5s');
    // The command is gone from the VM (the same connection keeps working).
    await until(async () => (await session.remote.exec(`kill -0 "$(cat ${pidFile})"`)).code !== 0);
  });

  it('queues more commands than sshd allows sessions and runs them all', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => session.remote.exec(`sleep 0.2; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
  });
});

describe('files over SFTP', () => {
  it('writes a file with mode 0600 and the exact content', async () => {
    const path = `${sshd.userDir}/pool.yml`;
    await session.remote.putFile(path, 'version: "1"\ninstances: []\n', 0o600);
    const stat = await session.remote.exec(`stat -c %a ${path}; cat ${path}`);
    expect(stat.stdout).toBe('600\nversion: "1"\ninstances: []\n');
  });

  it('narrows an existing wider file to the requested mode and replaces its content', async () => {
    const path = `${sshd.userDir}/existing`;
    await session.remote.exec(`printf 'old old old content' > ${path}; chmod 0644 ${path}`);
    await session.remote.putFile(path, Buffer.from('new'), 0o600);
    const stat = await session.remote.exec(`stat -c %a ${path}; cat ${path}`);
    expect(stat.stdout).toBe('600\nnew');
  });

  it('writes large files whole, several at once', async () => {
    const big = Buffer.alloc(300_000, 'x');
    const paths = [1, 2, 3].map((i) => `${sshd.userDir}/big-${i}`);
    await Promise.all(paths.map((p) => session.remote.putFile(p, big, 0o600)));
    const sizes = await session.remote.exec(`stat -c %s ${paths.join(' ')}`);
    expect(sizes.stdout).toBe('300000\n300000\n300000\n');
  });

  it('says which path could not be written and why', async () => {
    const error = await session.remote
      .putFile(`${sshd.userDir}/no/such/dir/file`, 'x', 0o600)
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'COMMAND_FAILED' });
    expect((error as Error).message).toContain(`${sshd.userDir}/no/such/dir/file`);
    expect((error as Error).message).toMatch(/directory does not exist/);
  });
});

describe('the test VM', () => {
  it('applies docker knobs to connections opened after they are set', async () => {
    const connect = () =>
      connectSsh({
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        privateKey: sshd.privateKey,
        pin: pinKeys(sshd.hostKeys, 'the test sshd'),
      });
    await sshd.setDockerEnv({ FAKE_DOCKER_NO_DAEMON: '1', FAKE_DOCKER_FAIL: 'network create,pull' });
    const stopped = await connect();
    const info = await stopped.remote.exec('sudo -n docker version');
    await stopped.remote.close();
    expect(info.code).toBe(1);
    expect(info.stderr).toContain('Cannot connect to the Docker daemon');

    await sshd.setDockerEnv({});
    const running = await connect();
    const again = await running.remote.exec('sudo -n docker version');
    await running.remote.close();
    expect(again.code).toBe(0);
  });
});
