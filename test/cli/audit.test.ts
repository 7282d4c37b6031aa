import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/cli/audit-row.js';
import { connectRedis, createProducerConnection, type Redis } from '../../src/queue/redis.js';
import { createRunStore, type RunStore } from '../../src/queue/run-store.js';
import type { RunRecord } from '../../src/queue/types.js';
import { runCli as runMain } from '../support/cli-run.js';
import { REDIS_URL, scanPrefix, testPrefix } from '../support/queue-harness.js';
import { runRecord } from '../support/run-record.js';

const MIN = 60_000;
const DAY = 86_400_000;
const prefix = testPrefix();
let redis: Redis;
let store: RunStore;
const now = Date.now();

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(['audit', ...argv], env);
}

function runCli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return runMain(argv, { REDIS_URL, QUEUE_PREFIX: prefix, ...env });
}

function jsonl(text: string): AuditRow[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditRow);
}

/** A run recorded as the app and the worker record it: created, steps as they end, a decision, the end. */
async function recordRun(id: string, vm: string, createdAt: number, over: Partial<RunRecord> = {}) {
  const created = await store.create(
    runRecord(id, { target: { vm, project: 'acme', zone: 'z-1' }, createdAt, ...over }),
  );
  if (!created.ok) throw new Error(`${vm} is busy`);
  const step = async (stepId: 'preflight' | 'connect', at: number, durationMs: number) =>
    store.update(
      id,
      {
        state: `running:${stepId}`,
        step: { id: stepId, state: 'done', durationMs, summary: `${stepId} ok` },
      },
      { at, by: 'system', event: 'step', step: stepId, detail: 'done' },
    );
  await step('preflight', createdAt + MIN, 2000);
  await step('connect', createdAt + 2 * MIN, 1500);
  await store.update(id, { state: 'awaiting-approval', approvalExpiresAt: createdAt + DAY });
  await store.decide(id, { kind: 'approved', by: 'U0APP', at: createdAt + 3 * MIN }, createdAt + 3 * MIN);
  await store.finish(id, 'succeeded', { at: createdAt + 4 * MIN, by: 'system' });
}

beforeAll(async () => {
  redis = createProducerConnection({ redisUrl: REDIS_URL });
  await connectRedis(redis, REDIS_URL);
  store = createRunStore(redis, prefix);
  // Oldest first, as runs are created.
  await recordRun('old-run', 'vm-old', now - 10 * DAY);
  await recordRun('setup-run', 'vm-1', now - 2 * DAY);
  await recordRun('upgrade-run', 'vm-2', now - DAY, {
    kind: 'upgrade',
    images: { delegate: '25.04.85701', runner: undefined },
    requester: 'U0OTHER',
  });
});

afterAll(async () => {
  const keys = await scanPrefix(redis, prefix);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('gitspaces-bot audit', () => {
  it('prints each run of the last 7 days as one JSON object per line: who, what, and when each step ran', async () => {
    const r = await run(['--format', 'jsonl']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = jsonl(r.out);
    expect(rows.map((row) => row.run)).toEqual(['setup-run', 'upgrade-run']);
    const setup = rows[0] as AuditRow;
    const t = now - 2 * DAY;
    expect(setup).toEqual({
      run: 'setup-run',
      vm: 'vm-1',
      project: 'acme',
      zone: 'z-1',
      channel: 'C0RUNS',
      kind: 'setup',
      images: { delegate: null, runner: null },
      requester: 'U0REQ',
      decision: 'approved',
      decider: 'U0APP',
      decidedAt: new Date(t + 3 * MIN).toISOString(),
      state: 'succeeded',
      createdAt: new Date(t).toISOString(),
      finishedAt: new Date(t + 4 * MIN).toISOString(),
      steps: [
        {
          id: 'preflight',
          result: 'done',
          start: new Date(t + MIN - 2000).toISOString(),
          end: new Date(t + MIN).toISOString(),
          durationMs: 2000,
          summary: 'preflight ok',
        },
        {
          id: 'connect',
          result: 'done',
          start: new Date(t + 2 * MIN - 1500).toISOString(),
          end: new Date(t + 2 * MIN).toISOString(),
          durationMs: 1500,
          summary: 'connect ok',
        },
      ],
    });
    // Keys in a fixed order: lines can be compared as text.
    expect(r.out.split('\n')[0]).toMatch(/^\{"run":"setup-run","vm":"vm-1","project":"acme",/);
    expect(rows[1]).toMatchObject({
      kind: 'upgrade',
      requester: 'U0OTHER',
      images: { delegate: '25.04.85701', runner: null },
    });
  });

  it('prints a table by default, a line per run and a line per step', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^2 runs since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const runLine = lines.find((l) => l.includes('vm-1')) ?? '';
    expect(runLine).toContain('setup  ·  succeeded  ·  requested by U0REQ  ·  approved by U0APP at');
    expect(runLine).toContain('run setup-run');
    expect(r.out).toMatch(
      /\n {4}preflight +done +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d → .* \(2\.0s\) {2}preflight ok\n/,
    );
    expect(r.out).toContain('requested by U0OTHER  ·  approved by U0APP');
    expect(r.out).toContain('delegate=25.04.85701');
    expect(r.out).not.toContain('vm-old');
  });

  it('goes further back with --since and keeps to one VM with --vm', async () => {
    const longer = jsonl((await run(['--since', '30d', '--format=jsonl'])).out);
    expect(longer.map((row) => row.vm)).toEqual(['vm-old', 'vm-1', 'vm-2']);
    const shorter = jsonl((await run(['--since=36h', '--format', 'jsonl'])).out);
    expect(shorter.map((row) => row.vm)).toEqual(['vm-2']);
    const one = jsonl((await run(['--vm', 'vm-1', '--since', '30d', '--format', 'jsonl'])).out);
    expect(one.map((row) => row.run)).toEqual(['setup-run']);
    const none = await run(['--vm', 'vm-nowhere']);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/^No runs of vm-nowhere since /);
  });

  it('reads only its own QUEUE_PREFIX', async () => {
    const r = await run(['--format', 'jsonl'], { QUEUE_PREFIX: testPrefix() });
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
  });

  it('refuses bad flags with exit 2 and says what to type instead', async () => {
    const cases: Array<[string[], string]> = [
      [['--since', '7x'], '--since 7x is not a duration: give a number and a unit, e.g. --since 7d'],
      [['--since'], '--since needs a value.'],
      [['--format', 'csv'], 'use --format table or --format jsonl'],
      [['--vm', 'Bad_VM'], '--vm Bad_VM is not a VM name'],
      [['--verbose'], 'Unknown option --verbose.'],
      [['vm-1'], 'give the VM as --vm vm-1'],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err).toContain('Usage: gitspaces-bot audit');
      expect(r.out).toBe('');
    }
  });

  it('says to check REDIS_URL and exits 1 when Redis does not answer', async () => {
    const r = await run([], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('Redis at redis://127.0.0.1:1 does not answer');
    expect(r.err).toContain('Check REDIS_URL');
    expect(r.out).toBe('');
  });

  it('needs no Slack or Google settings, prints none it is given, and documents itself', async () => {
    const secrets = {
      SLACK_BOT_TOKEN: 'xoxb-audit-secret-1',
      SLACK_SIGNING_SECRET: 'signing-secret-audit-2',
    };
    const r = await run(['--since', '30d'], secrets);
    expect(r.code).toBe(0);
    for (const secret of Object.values(secrets)) expect(r.out + r.err).not.toContain(secret);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--format table|jsonl');
    const usage = await runCli(['--help']);
    expect(usage.out).toContain('audit [--since 7d] [--vm <vm>] [--format table|jsonl]');
  });
});
