import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectedHost } from '../../src/setup/ports.js';
import { command } from '../../src/setup/shell.js';
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

/** The process that ran a command's `sh -c`: the same one for commands sent through one shell. */
const parentOf = async () => (await session.remote.exec('echo $PPID')).stdout.trim();

describe('commands one after another on one connection', () => {
  it('run in one shell, each with its own output and exit code, exactly as over a session of its own', async () => {
    const cases: Array<[string, { code: number; stdout: string; stderr: string }]> = [
      ['printf out', { code: 0, stdout: 'out', stderr: '' }],
      ['echo out; echo err >&2; exit 3', { code: 3, stdout: 'out\n', stderr: 'err\n' }],
      ['printf "\\n\\n"', { code: 0, stdout: '\n\n', stderr: '' }],
      ['printf "é ✓\\n"; printf "tail" >&2', { code: 0, stdout: 'é ✓\n', stderr: 'tail' }],
      ['exit 0', { code: 0, stdout: '', stderr: '' }],
      ['cat', { code: 0, stdout: '', stderr: '' }],
      ['false', { code: 1, stdout: '', stderr: '' }],
    ];
    const first = await parentOf();
    for (const [script, expected] of cases) {
      expect(await session.remote.exec(script), script).toMatchObject({ ...expected, signal: undefined });
    }
    expect(await parentOf()).toBe(first);
  });

  it('passes every argument through as it was meant, quotes, newlines and $(…) included', async () => {
    const argv = ["it's", 'a "b"', '$(touch /tmp/nope)', 'line\nbreak', '`id`', '; exit 9', ''];
    const result = await session.remote.exec(command('printf', '[%s]\\n', ...argv));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(argv.map((a) => `[${a}]\n`).join(''));
  });

  it('keeps large outputs whole', async () => {
    const result = await session.remote.exec('head -c 300000 /dev/zero | tr "\\0" x; echo; echo done >&2');
    expect(result.stdout).toHaveLength(300_001);
    expect(result.stderr).toBe('done\n');
  });

  it('streams output as it arrives without showing the shell’s own markers', async () => {
    const streamed: string[] = [];
    const result = await session.remote.exec('echo one; sleep 0.2; echo two >&2', {
      onOutput: (chunk) => streamed.push(chunk),
    });
    expect(result).toMatchObject({ code: 0, stdout: 'one\n', stderr: 'two\n' });
    expect(streamed.join('')).toBe('one\ntwo\n');
  });

  it('stops a command that outlives its timeout, and the next command runs in a fresh shell', async () => {
    const before = await parentOf();
    await expect(session.remote.exec('sleep 5', { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'COMMAND_TIMEOUT',
      message: expect.stringContaining('"sleep 5" did not finish within'),
    });
    expect(await session.remote.exec('echo fine')).toMatchObject({ code: 0, stdout: 'fine\n' });
    expect(await parentOf()).not.toBe(before);
  });

  it('runs commands sent at the same time side by side', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => session.remote.exec(`sleep 0.1; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n']);
  });
});
