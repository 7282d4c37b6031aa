import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** A delegate that answers, whose log file is `logPath` ('' for a log driver without one) and `docker logs` prints `log`. */
  const answering = (log: string, logPath = '') =>
    `docker() { case "$1" in exec) return 0 ;; inspect) case "$5" in *LogPath*) echo '${logPath}' ;; *) echo 2026-12-05T10:00:00Z ;; esac ;; logs) printf '${log}' ;; esac; }`;
  const FROZEN = 'Delegate used revoked token. It will be frozen and drained.';

  it('reads the log for a refusal only when the delegate answers, through docker logs without a log file', async () => {
    expect(await healthIn(answering('a\\nDelegate registered with id 1\\nb\\n'))).toEqual({
      health: 'healthy',
      log: '',
    });
    expect(await healthIn(answering(`a\\n${FROZEN}\\nb\\n`))).toEqual({
      health: 'token-refused',
      refusal: 'revoked',
      log: FROZEN,
    });
  });

  it("reads Docker's json-file log files themselves, the rotated ones too, and shows the line as printed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gsb-delegate-log-'));
    const file = join(dir, 'abc-json.log');
    const entry = (line: string) =>
      `${JSON.stringify({ log: `${line}\n`, stream: 'stdout', time: '2026-12-05T10:00:00Z' })}\n`;
    writeFileSync(file, entry('Last heartbeat received at 1764928800000'));
    writeFileSync(`${file}.1`, entry(FROZEN) + entry('Delegate registered with id 1'));
    // `docker logs` would say nothing here: only the files tell.
    expect(await healthIn(answering('', file))).toEqual({
      health: 'token-refused',
      refusal: 'revoked',
      log: FROZEN,
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the last lines of a delegate that does not answer', async () => {
    const silent =
      'docker() { case "$1" in exec) return 7 ;; inspect) echo 2026-12-05T10:00:00Z ;; logs) echo starting ;; esac; }';
    expect(await healthIn(silent)).toEqual({ health: 'not-yet', log: 'starting' });
  });
});
