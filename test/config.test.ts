import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('fills every default of the contract', () => {
    const c = loadConfig({}, { dotEnv: false });
    expect(c.slack.apiUrl).toBe('https://slack.com/api/');
    expect(c.port).toBe(3000);
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('gitspaces');
    expect(c.workerConcurrency).toBe(10);
    expect(c.ssh).toMatchObject({
      user: 'gitspaces',
      port: 22,
      hostKeyPolicy: 'guest-attributes',
      address: 'internal',
      authorizeKey: 'auto',
      iap: false,
    });
    expect(c.runnerImage).toBe('drone/drone-runner-aws:latest');
    expect(c.delegateName).toBe('{vm}-delegate');
    expect([c.runnerDir, c.dockerNetwork]).toEqual(['/runner', 'harness']);
    expect([c.runnerHealthTimeoutMs, c.delegateHealthTimeoutMs, c.approvalTtlMs]).toEqual([
      120_000, 300_000, 86_400_000,
    ]);
    expect(c.setupAllowed).toBe('*');
    expect(c.allowSelfApproval).toBe(false);
    expect(c.watchIntervalMs).toBe(15 * 60_000);
  });

  it('turns the watch off with WATCH_INTERVAL=0 and refuses one shorter than 10s, saying what to use', () => {
    expect(loadConfig({ WATCH_INTERVAL: '0' }, { dotEnv: false }).watchIntervalMs).toBe(0);
    expect(loadConfig({ WATCH_INTERVAL: '10s' }, { dotEnv: false }).watchIntervalMs).toBe(10_000);
    expect(() => loadConfig({ WATCH_INTERVAL: '5s' }, { dotEnv: false })).toThrow(
      'WATCH_INTERVAL=5s is too short: use 10s or more (or 0 to turn the watch off)',
    );
    expect(() => loadConfig({ WATCH_INTERVAL: 'often' }, { dotEnv: false })).toThrow('WATCH_INTERVAL=often');
  });

  it('lists every missing and invalid value in one message', () => {
    const run = () =>
      loadConfig(
        {
          PORT: 'eighty',
          SSH_HOST_KEY_POLICY: 'trust-me',
          SSH_AUTHORIZE_KEY: 'yes',
          APPROVAL_TTL: 'soon',
          APPROVERS: 'U123,bob',
        },
        { dotEnv: false, needs: ['slack', 'secrets'] },
      );
    expect(run).toThrow(/PORT=eighty/);
    try {
      run();
    } catch (error) {
      const message = (error as Error).message;
      for (const name of [
        'PORT',
        'SSH_HOST_KEY_POLICY',
        'SSH_AUTHORIZE_KEY=yes',
        'APPROVAL_TTL',
        'APPROVERS has bob',
        'SLACK_BOT_TOKEN',
        'POOL_SECRET',
        'SSH_KEY_SECRET',
      ]) {
        expect(message).toContain(name);
      }
    }
  });

  it('reads .env underneath the environment without overriding it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gsb-env-'));
    writeFileSync(
      join(dir, '.env'),
      'QUEUE_PREFIX=from-file\nDOCKER_NETWORK="net-file"\n# comment\nSSH_USER=filed\n',
    );
    const c = loadConfig({ SSH_USER: 'from-env' }, { dotEnv: join(dir, '.env') });
    expect(c.queuePrefix).toBe('from-file');
    expect(c.dockerNetwork).toBe('net-file');
    expect(c.ssh.user).toBe('from-env');
  });
});
