import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { RunAbandoned } from '../../src/setup/engine.js';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import type { Connector } from '../../src/setup/ports.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { eventLog } from '../support/engine-events.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { TEST_POOL } from '../support/secrets-dir.js';
import { shellText } from '../support/shell-text.js';

let vm: TestVm;
type Container = { name: string; status: string };
const containers = (): Container[] => Object.values(vm.sshd.dockerState().containers ?? {}) as Container[];

beforeAll(async () => {
  vm = await startTestVm();
});
afterAll(async () => {
  await vm?.stop();
});
beforeEach(async () => {
  vm.resetDocker();
  vm.secrets.setPool(TEST_POOL);
  await vm.sshd.setDockerEnv({});
});

/** A connection that drops right after the VM ran the first command matching `pattern` (the VM did the work). */
function droppingAfter(pattern: RegExp, error: () => GitspacesError): Connector {
  let dropped = false;
  return async (options) => {
    const connected = await connectSsh(options);
    const { remote } = connected;
    return {
      ...connected,
      remote: {
        user: remote.user,
        putFile: (...args) => remote.putFile(...args),
        close: () => remote.close(),
        async exec(command, opts) {
          const result = await remote.exec(command, opts);
          if (!dropped && pattern.test(shellText(command))) {
            dropped = true;
            throw error();
          }
          return result;
        },
      },
    };
  };
}

describe('interrupted runs', () => {
  it('resumes at the runner step after a crash in the middle of it, and leaves one runner', async () => {
    const journal = memoryJournal();
    const crash = droppingAfter(
      /docker' 'run'.*vm-runner/,
      () => new GitspacesError('INTERNAL', 'worker crashed'),
    );
    const first = await vm.run({ journal, deps: { connect: crash } });
    expect(first.result).toMatchObject({ state: 'failed', step: 'runner' });
    expect(journal.state?.step).toBe('runner');

    const second = await vm.run({ journal });
    expect(second.result.state).toBe('succeeded');
    expect(second.events.started).not.toContain('docker');
    expect(second.events.started).toContain('runner');
    expect(containers().filter((c) => c.name === 'vm-runner')).toHaveLength(1);
  });

  it('reconnects and finishes the step when the connection drops mid-command', async () => {
    const drop = droppingAfter(
      /docker' 'network' 'create/,
      () =>
        new GitspacesError('SSH_DISCONNECTED', 'The SSH connection to 127.0.0.1 closed during a command.', {
          retryable: true,
        }),
    );
    const { result, events } = await vm.run({ deps: { connect: drop } });
    expect(result.state).toBe('succeeded');
    expect(events.all()).toContain('Retrying in');
    expect(Object.keys(vm.sshd.dockerState().networks ?? {}).filter((n) => n === 'harness')).toHaveLength(1);
  });

  it('gives up after bounded retries and names the step', async () => {
    const always: Connector = async (options) => {
      const connected = await connectSsh(options);
      const { remote } = connected;
      return {
        ...connected,
        remote: {
          ...remote,
          user: remote.user,
          putFile: (...a) => remote.putFile(...a),
          close: () => remote.close(),
          exec: async (command, opts) => {
            // The network step's own check (the change plan inspects the network too, with another format).
            if (/network' 'inspect' 'harness' '--format' '\{\{\.Name\}\}/.test(shellText(command))) {
              throw new GitspacesError('SSH_DISCONNECTED', 'The SSH connection closed during a command.', {
                retryable: true,
              });
            }
            return remote.exec(command, opts);
          },
        },
      };
    };
    const { result } = await vm.run({ deps: { connect: always, attempts: 3 } });
    expect(result).toMatchObject({ state: 'failed', step: 'network' });
    expect(result.error?.code).toBe('SSH_DISCONNECTED');
  });
  it('takes a container created meanwhile by another attempt of the run as done, and leaves one', async () => {
    let raced = false;
    const racing: Connector = async (options) => {
      const connected = await connectSsh(options);
      const { remote } = connected;
      return {
        ...connected,
        remote: {
          user: remote.user,
          putFile: (...args) => remote.putFile(...args),
          close: () => remote.close(),
          async exec(command, opts) {
            if (!raced && /'docker' 'run'.*'vm-runner'/.test(shellText(command))) {
              raced = true;
              await remote.exec(command, opts); // the other attempt gets there first
            }
            return remote.exec(command, opts);
          },
        },
      };
    };
    const { result, events } = await vm.run({ deps: { connect: racing } });
    expect(raced).toBe(true);
    expect(result, JSON.stringify(result.error)).toMatchObject({ state: 'succeeded' });
    expect(events.finished.find((r) => r.id === 'runner')?.summary).toContain('created meanwhile');
    expect(containers().filter((c) => c.name === 'vm-runner')).toHaveLength(1);
  });
});

describe('a run lost to another worker', () => {
  it('stops before its next command once its signal fires, and records and reports nothing more', async () => {
    const lost = new AbortController();
    const after: string[] = [];
    const losing: Connector = async (options) => {
      const connected = await connectSsh(options);
      const { remote } = connected;
      return {
        ...connected,
        remote: {
          user: remote.user,
          putFile: (...args) => remote.putFile(...args),
          close: () => remote.close(),
          async exec(command, opts) {
            if (lost.signal.aborted) after.push(command);
            const result = await remote.exec(command, opts);
            // The lock lapses while `network create` runs on the VM.
            if (/docker' 'network' 'create/.test(shellText(command))) lost.abort('lock lost');
            return result;
          },
        },
      };
    };
    const journal = memoryJournal();
    const events = eventLog();
    await expect(
      vm.run({ journal, deps: { connect: losing, signal: lost.signal, reporter: events.reporter } }),
    ).rejects.toBeInstanceOf(RunAbandoned);
    expect(after).toEqual([]);
    expect(events.failed).toEqual([]);
    expect(events.results).toEqual([]);
    expect(events.approvals).toEqual([]);
    expect(events.finished.map((r) => r.id)).not.toContain('network');
    // The journal still says `network`: the worker holding the run checks it again and finds it in place.
    expect(journal.state?.step).toBe('network');
    expect(Object.keys(vm.sshd.dockerState().containers ?? {})).toEqual([]);
  });
});

describe('refusals before anything is written', () => {
  it('refuses a changed host key before running any command, showing both fingerprints', async () => {
    const wrong = {
      type: 'ssh-ed25519',
      base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIHtkk5p2mDVPbR2BSZ/7d9pr2j3GfuHkpqEJwXGkTz5o',
    };
    const { result } = await vm.run({
      deps: { pinFor: async () => pinKeys([wrong], 'guest attributes of vm-1') },
    });
    expect(result).toMatchObject({ state: 'failed', step: 'connect' });
    expect(result.error?.code).toBe('HOST_KEY_MISMATCH');
    expect(result.error?.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}.*SHA256:[A-Za-z0-9+/]{43}/s);
    expect(vm.sshd.calls()).toEqual([]);
  });

  it('stops at preflight on a malformed pool file, with the line and column', async () => {
    vm.secrets.setPool('version: "1"\ninstances:\n  - name: a\n    type: [google\n');
    const { result } = await vm.run();
    expect(result).toMatchObject({ state: 'failed', step: 'preflight' });
    expect(result.error?.message).toMatch(/line \d+, column \d+/);
    expect(vm.sshd.calls()).toEqual([]);
    expect(existsSync(join(vm.runnerDir, 'pool.yml'))).toBe(false);
  });

  it('stops at preflight when a secret is missing, naming the reference', async () => {
    const { result } = await vm.run({
      settings: { secretRefs: { ...vm.secrets.refs, delegateToken: 'file:/nonexistent/token' } },
    });
    expect(result).toMatchObject({ state: 'failed', step: 'preflight' });
    expect(result.error?.message).toContain('/nonexistent/token');
    expect(vm.sshd.calls()).toEqual([]);
  });

  it.each([
    ['tags', { delegateTags: 'a,$(touch /tmp/gsb-pwned)' }],
    ['delegate name', { delegateName: 'x"; touch /tmp/gsb-pwned; "' }],
  ])('refuses shell metacharacters in the %s before connecting', async (_what, settings) => {
    const { result } = await vm.run({ settings });
    expect(result).toMatchObject({ state: 'failed', step: 'preflight' });
    expect(vm.sshd.calls()).toEqual([]);
    expect(existsSync('/tmp/gsb-pwned')).toBe(false);
  });
});

describe('failures on the VM', () => {
  it('reports a failing docker run with the step, the exit code and the redacted stderr', async () => {
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_FAIL: 'run:125' });
    const { result, events } = await vm.run();
    expect(result).toMatchObject({ state: 'failed', step: 'runner' });
    expect(result.error?.message).toContain('exited with code 125');
    expect(result.error?.detail).toContain('injected failure');
    expect(events.failed[0]?.record.id).toBe('runner');
  });

  it('shows the runner log when it does not become healthy in time', async () => {
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_UNHEALTHY: 'vm-runner' });
    const { result } = await vm.run({ settings: { runnerHealthPort: 1, runnerHealthTimeoutMs: 1500 } });
    expect(result).toMatchObject({ state: 'failed', step: 'runner-health' });
    expect(result.error?.code).toBe('HEALTH_TIMEOUT');
    expect(result.error?.detail).toContain('unable to ping driver');
  });

  it('says how to fix a RUNNER_DIR on a read-only filesystem (Container-Optimized OS), and writes nothing', async () => {
    const readOnly = mkdtempSync(join(tmpdir(), 'gsb-readonly-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
    try {
      const { result } = await vm.run({ settings: { runnerDir: join(readOnly, 'runner') } });
      expect(result).toMatchObject({ state: 'failed', step: 'pool-file' });
      expect(result.error?.code).toBe('CONFIG_INVALID');
      expect(result.error?.message).toContain(`RUNNER_DIR (${readOnly}/runner)`);
      expect(result.error?.message).toContain('under /var or /home');
      expect(result.error?.detail).toMatch(/read-only file system/i);
      expect(containers()).toEqual([]);
    } finally {
      execFileSync('umount', [readOnly]);
      rmSync(readOnly, { recursive: true, force: true });
    }
  });

  it('says Harness refused the token when the delegate log shows it', async () => {
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_UNHEALTHY: 'vm-1-delegate' });
    const { result } = await vm.run();
    expect(result, JSON.stringify(result.error)).toMatchObject({ state: 'failed', step: 'delegate-health' });
    expect(result.error?.message).toBe(
      'vm-1-delegate: Harness refuses its token (not a token of this account, or deleted): put a valid token in DELEGATE_TOKEN_SECRET and run setup again.',
    );
  });

  it('stops at delegate-health when Harness froze the delegate for a revoked token, though it answers', async () => {
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_REVOKED: 'vm-1-delegate' });
    const { result } = await vm.run();
    expect(result, JSON.stringify(result.error)).toMatchObject({ state: 'failed', step: 'delegate-health' });
    expect(result.error?.message).toContain(
      'vm-1-delegate: Harness revoked its token, so it is frozen and takes no tasks: create a delegate token in Harness',
    );
    expect(result.error?.detail).toContain('Delegate used revoked token. It will be frozen and drained.');
  });
});

describe('quoting', () => {
  it('passes a runner directory full of shell metacharacters through as one literal path', async () => {
    const base = mkdtempSync(join(tmpdir(), 'gsb-quote-'));
    const dir = join(base, `it's a $(touch ${base}/pwned) dir; echo`);
    const { result } = await vm.run({ settings: { runnerDir: dir } });
    expect(result.state).toBe('succeeded');
    expect(readFileSync(join(dir, 'pool.yml'), 'utf8')).toBe(TEST_POOL);
    expect(existsSync(join(base, 'pwned'))).toBe(false);
  });
});
