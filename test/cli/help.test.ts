/**
 * What a new user types first: `--help` on a command, and `serve` with settings missing.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => runCli(argv, env);

describe('gitspaces-bot <command> --help', () => {
  for (const command of ['setup', 'plan', 'status', 'logs']) {
    it(`${command} --help prints the usage of ${command} and exits 0, with nothing configured`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await run([command, flag]);
        expect(r.code).toBe(0);
        expect(r.err).toBe('');
        expect(r.out).toContain(`Usage: gitspaces-bot ${command} <vm> | --host <addr>`);
        expect(r.out).toContain('--known-hosts <file>');
      }
    });
  }

  it('shows --help even after other arguments', async () => {
    const r = await run(['setup', 'my-vm', '--yes', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--yes (-y) approves in advance');
  });

  it('serve --help prints the usage instead of starting', async () => {
    const r = await run(['serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('serve                 Slack app and worker in one process');
  });
});

describe('gitspaces-bot serve with settings missing', () => {
  it('lists them, points to check-config, and says Socket Mode needs no public URL', async () => {
    const r = await run(['serve'], { HOME: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('SLACK_BOT_TOKEN is missing');
    expect(r.err).toContain('gitspaces-bot check-config');
    expect(r.err).toMatch(/SLACK_APP_TOKEN .*Socket Mode.*no public URL/);
  });
});
