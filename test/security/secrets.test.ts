/**
 * Secrets stay where they belong. A complete run from Slack through the worker to the VM, with a runner
 * service-account key (RUNNER_SA_KEY_SECRET), then runs that fail in the ways that print the most (a
 * failing `docker run`, an unhealthy delegate's log tail, a rejection, an unreadable secret). Afterwards
 * every Redis key and value under the prefix, every request the Slack Web API stand-in received, every
 * line the bot logged (at debug level, Bolt's HTTP bodies included), sshd's log and every argv the Docker
 * stand-in recorded are searched for the delegate token, the SSH private key and the service-account key,
 * raw and base64: none may appear. The delegate's env file is gone from the VM once the delegate runs.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, type FleetVm, startFleet } from '../support/fault-fleet.js';
import { TEST_POOL, TEST_TOKEN } from '../support/secrets-dir.js';

const SA_PRIVATE_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const SA_KEY_ID = '3f1c0d7e9a6b5c4d2e1f0a9b8c7d6e5f4a3b2c1d';
const SA_KEY = JSON.stringify({
  type: 'service_account',
  project_id: 'acme-gitspaces',
  private_key_id: SA_KEY_ID,
  private_key: SA_PRIVATE_KEY,
  client_email: 'runner@acme-gitspaces.iam.gserviceaccount.com',
  client_id: '112233445566778899',
});
/** The pool file as the Gitspaces terraform module writes it: a key path on the terraform machine. */
const POOL_WITH_KEY = TEST_POOL.replace(
  '        project_id: acme-gitspaces\n',
  '        project_id: acme-gitspaces\n        json_path: /home/me/terraform/sa.json\n',
);

let fleet: Fleet;
let vm: FleetVm;
let bot: FaultBot;
const outcomes: Record<string, string> = {};
const dockerCalls: string[][] = [];

beforeAll(async () => {
  fleet = await startFleet(['vm-1'], { pool: POOL_WITH_KEY, saKey: SA_KEY });
  vm = fleet.vm('vm-1');
  bot = await new FaultBot({ fleet }).open();
  await bot.startWorker();
}, 120_000);
afterAll(async () => {
  await bot?.close();
  await fleet?.stop();
});

async function setup(options: {
  docker?: Record<string, string>;
  reset?: boolean;
  decide?: 'approve' | 'reject';
}) {
  if (options.reset !== false) {
    // A bare VM again; what the VM was asked so far is kept for the search at the end.
    dockerCalls.push(...vm.sshd.calls());
    vm.reset();
  }
  await vm.sshd.setDockerEnv(options.docker ?? {});
  await bot.command('setup vm-1');
  const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
  await waitFor('the run to wait or end', async () => {
    const run = await bot.record(id);
    return run?.state === 'awaiting-approval' || run?.finishedAt !== undefined;
  });
  if ((await bot.record(id))?.finishedAt === undefined) {
    if (options.decide === 'reject') {
      await bot.click(id, 'delegate_reject', 'U0APP');
    } else await bot.approve(id);
  }
  const run = await bot.finished(id);
  expect(bot.truthProblems(run)).toEqual([]);
  return run;
}

/** The forms a secret could leak in: raw, base64 (padded or not), base64url, and each long line of it. */
function needles(name: string, secret: string): Array<{ name: string; needle: string }> {
  const forms = new Set<string>();
  for (const text of [secret, secret.trim()]) {
    forms.add(text);
    const b64 = Buffer.from(text).toString('base64');
    forms.add(b64);
    forms.add(b64.replace(/=+$/, ''));
    forms.add(Buffer.from(text).toString('base64url'));
    // JSON escaping turns a PEM's newlines into \n: its lines are looked for one by one.
    for (const line of text.split('\n'))
      if (line.trim().length >= 16 && !/^-----/.test(line)) forms.add(line.trim());
  }
  return [...forms].map((needle) => ({ name, needle }));
}

describe('secrets', () => {
  it('go nowhere but the VM, through a complete run and failing ones', async () => {
    const sshKey = readFileSync(fleet.secrets.files.sshKey, 'utf8');
    const all = [
      ...needles('the delegate token', TEST_TOKEN),
      ...needles('the SSH private key', sshKey),
      ...needles('the service-account key', SA_KEY),
      ...needles('the service-account private key', SA_PRIVATE_KEY),
      { name: 'the service-account key id', needle: SA_KEY_ID },
    ];

    // A complete run: runner with the key beside its pool file, approval, delegate.
    const complete = await setup({});
    outcomes.complete = complete.state;
    expect(complete.state).toBe('succeeded');
    const pool = readFileSync(join(vm.runnerDir, 'pool.yml'), 'utf8');
    expect(pool).toContain('json_path: /runner/sa-key.json');
    expect(readFileSync(join(vm.runnerDir, 'sa-key.json'), 'utf8')).toBe(SA_KEY);
    expect(statSync(join(vm.runnerDir, 'sa-key.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(vm.runnerDir, 'pool.yml')).mode & 0o777).toBe(0o600);
    const delegate = Object.values(vm.state().containers).find((c) => c.name === 'vm-1-delegate');
    expect(delegate?.env).toContain(`DELEGATE_TOKEN=${TEST_TOKEN}`);

    // Failing runs, each printing what it can: docker's stderr, the delegate's log tail, a rejection.
    outcomes.dockerRunFails = (await setup({ docker: { FAKE_DOCKER_FAIL: 'run:125' } })).state;
    expect(outcomes.dockerRunFails).toBe('failed:runner');
    outcomes.unhealthy = (await setup({ docker: { FAKE_DOCKER_UNHEALTHY: 'vm-1-delegate' } })).state;
    expect(outcomes.unhealthy).toBe('failed:delegate-health');
    outcomes.rejected = (await setup({ decide: 'reject' })).state;
    expect(outcomes.rejected).toBe('rejected');
    // A token secret that spans two lines is refused in preflight, by reference, never by value.
    writeFileSync(fleet.secrets.files.token, `${TEST_TOKEN}\n${TEST_TOKEN}\n`);
    try {
      outcomes.badToken = (await setup({})).state;
    } finally {
      writeFileSync(fleet.secrets.files.token, `${TEST_TOKEN}\n`);
    }
    expect(outcomes.badToken).toBe('failed:preflight');
    await vm.sshd.setDockerEnv({});

    // Every env file a `docker run` of the delegate named is gone from the VM.
    dockerCalls.push(...vm.sshd.calls());
    const runs = dockerCalls.filter((argv) => argv[0] === 'run' && argv.includes('vm-1-delegate'));
    expect(runs.length).toBeGreaterThan(0);
    for (const argv of runs) {
      const file = argv[argv.indexOf('--env-file') + 1] ?? '';
      expect(file).not.toBe('');
      expect(existsSync(file), `${file} is still on the VM`).toBe(false);
    }

    const places: Record<string, string> = {
      'Redis (every key and value under the prefix)': JSON.stringify(await bot.h.queue.dump()),
      'requests to the Slack Web API': JSON.stringify(bot.slack.calls.map((c) => c.args)),
      'answers to response_url': JSON.stringify(bot.slack.responses),
      'ephemeral messages': JSON.stringify(bot.slack.ephemerals),
      'the bot’s log': bot.logs(),
      'sshd’s log': vm.sshd.log(),
      'argv of every docker call': JSON.stringify(dockerCalls),
    };
    expect(places['the bot’s log']?.length ?? 0).toBeGreaterThan(1000);
    expect(places['argv of every docker call']).toContain('--env-file');
    const found: string[] = [];
    for (const [place, text] of Object.entries(places))
      for (const { name, needle } of all) if (text.includes(needle)) found.push(`${name} in ${place}`);
    await recordFigures('secrets', {
      secretsFound: found.length,
      needlesSearched: all.length,
      placesSearched: Object.keys(places).length,
      bytesSearched: Object.values(places).reduce((n, t) => n + t.length, 0),
      runsCompleted: Object.keys(outcomes).length,
    });
    expect(found).toEqual([]);
    // Five whole runs (one with an approval, one waiting out a delegate's health checks): 35-55 s on a
    // quiet machine, more on a loaded one.
  }, 240_000);
});
