import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { answersOnVm, delegateHealth } from '../../src/setup/health-probes.js';
import type { ExecResult, HttpAnswer, RemoteHost } from '../../src/setup/ports.js';
import { Redactor } from '../../src/setup/redactor.js';
import { VmShell } from '../../src/setup/vm-shell.js';

/** A VM whose shell answers every command with `answer`, and whose sshd forwards as told. */
function vmWith(answer: Partial<ExecResult>, forward: 'answers' | 'refused' | 'none') {
  const commands: string[] = [];
  const remote: RemoteHost = {
    user: 'root',
    async exec(command) {
      commands.push(command);
      return { code: 0, signal: undefined, stdout: '', stderr: '', ...answer };
    },
    async putFile() {},
    async close() {},
    ...(forward === 'none'
      ? {}
      : {
          async httpGet(): Promise<HttpAnswer | undefined> {
            if (forward === 'refused')
              throw new GitspacesError('FORWARDING_REFUSED', 'AllowTcpForwarding no');
            return { status: 200, body: 'OK' };
          },
        }),
  };
  const redactor = new Redactor().add('tok-3f9a7c2e');
  return { ctx: { vm: new VmShell(remote, redactor), remote, redactor }, commands };
}

describe('the runner health check', () => {
  it('asks through the SSH connection and runs nothing on the VM', async () => {
    const { ctx, commands } = vmWith({ code: 127 }, 'answers');
    expect(await answersOnVm(ctx, 3000, '/healthz')).toBe(true);
    expect(commands).toEqual([]);
  });

  it('falls back to curl or wget on the VM when its sshd does not forward', async () => {
    const { ctx, commands } = vmWith({ code: 0, stdout: 'OK' }, 'refused');
    expect(await answersOnVm(ctx, 3000, '/healthz')).toBe(true);
    expect(commands[0]).toContain('curl');
    expect(commands[0]).toContain('wget');
  });

  it('names the missing tool when the VM neither forwards nor has curl or wget', async () => {
    const { ctx } = vmWith({ code: 127, stderr: 'gitspaces-bot: neither curl nor wget' }, 'refused');
    await expect(answersOnVm(ctx, 3000, '/healthz')).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      message: expect.stringContaining('install curl'),
    });
  });
});

describe('the delegate health check', () => {
  it('passes on a registration logged since the current start', async () => {
    const { ctx, commands } = vmWith({ code: 0, stdout: 'Delegate registered with id abc\n' }, 'none');
    expect((await delegateHealth(ctx, 'vm-1-delegate')).health).toBe('healthy');
    expect(commands[0]).toContain('--since "$started"');
  });

  it('is not yet healthy when the current start has not registered', async () => {
    const { ctx } = vmWith({ code: 0, stdout: 'Delegate process started\n' }, 'none');
    expect((await delegateHealth(ctx, 'vm-1-delegate')).health).toBe('not-yet');
  });

  it('tells a refused token apart, with the log redacted', async () => {
    const { ctx } = vmWith({ code: 0, stdout: 'Delegate used invalid token tok-3f9a7c2e\n' }, 'none');
    const { health, refusal, log } = await delegateHealth(ctx, 'vm-1-delegate');
    expect([health, refusal]).toEqual(['token-refused', 'invalid']);
    expect(log).not.toContain('tok-3f9a7c2e');
  });

  it('is not healthy when it answers its health check but Harness froze it for a revoked or expired token', async () => {
    for (const refusal of ['revoked', 'expired']) {
      const line = `Delegate used ${refusal} token. It will be frozen and drained.`;
      const { ctx } = vmWith({ code: 0, stdout: `${line}\ngitspaces-bot: healthy\n` }, 'none');
      expect(await delegateHealth(ctx, 'vm-1-delegate')).toEqual({
        health: 'token-refused',
        refusal,
        log: line,
      });
    }
  });
});

describe('the delegate health script, in a real sh', () => {
  /** Runs the script with `docker` a function answering as the stand-in of one delegate would. */
  async function healthIn(docker: string) {
    const remote: RemoteHost = {
      user: 'root',
      async exec(command) {
        const out = spawnSync('sh', ['-c', `${docker}\n${command}`], { encoding: 'utf8' });
        return { code: out.status, signal: undefined, stdout: out.stdout, stderr: out.stderr };
      },
      async putFile() {},
      async close() {},
    };
    const redactor = new Redactor();
    return delegateHealth({ vm: new VmShell(remote, redactor), remote, redactor }, 'vm-1-delegate');
  }
  const answering = (log: string) =>
    `docker() { case "$1" in exec) return 0 ;; inspect) echo 2026-12-05T10:00:00Z ;; logs) printf '${log}' ;; esac; }`;

  it('reads the whole log since the start for a refusal only when the delegate answers', async () => {
    expect(await healthIn(answering('a\\nDelegate registered with id 1\\nb\\n'))).toEqual({
      health: 'healthy',
      log: '',
    });
    const frozen = answering('a\\nDelegate used revoked token. It will be frozen and drained.\\nb\\n');
    expect(await healthIn(frozen)).toMatchObject({ health: 'token-refused', refusal: 'revoked' });
  });

  it('shows the last lines of a delegate that does not answer', async () => {
    const silent =
      'docker() { case "$1" in exec) return 7 ;; inspect) echo 2026-12-05T10:00:00Z ;; logs) echo starting ;; esac; }';
    expect(await healthIn(silent)).toEqual({ health: 'not-yet', log: 'starting' });
  });
});
