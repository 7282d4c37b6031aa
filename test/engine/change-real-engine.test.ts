/**
 * Changing a live VM on the real engine: approvals before anything is stopped, the old container kept as
 * `<name>-previous` and restored when the new one is not healthy, a rotated token.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineMissing } from '../support/engine/daemon.js';
import { publishDelegateTag } from '../support/engine/images.js';
import { DELEGATE, type EngineTier, startEngineTier, TEST_TOKEN } from '../support/engine/tier.js';
import { TEST_POOL } from '../support/secrets-dir.js';

const missing = engineMissing();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
let tier: EngineTier;

// Its bound covers the wait for the other real-engine file, which holds the runner's port while it runs.
beforeAll(async () => {
  if (missing) throw new Error(`the real-engine tier cannot run: ${missing}`);
  tier = await startEngineTier();
}, 600_000);
afterAll(async () => {
  await tier?.stop();
}, 60_000);

async function freshSetup(): Promise<void> {
  tier.reset();
  tier.secrets.setPool(TEST_POOL);
  writeFileSync(tier.secrets.files.token, `${TEST_TOKEN}\n`);
  const run = await tier.cli('setup', ['--yes']);
  expect(run.code, run.output).toBe(0);
}

/** The delegate image under another tag whose containers never register (`/hold`), pushed to the registry. */
const neverHealthyTag = (tag: string) =>
  publishDelegateTag(tier.engine, tier.images.delegate, tag, 'RUN touch /hold\n');

const names = () => Object.keys(tier.containerIds()).sort();

describe.skipIf(missing !== undefined && !inCi)('changing a live VM on a real Docker engine', () => {
  it('waits for approval before the runner when the pool file changes, naming the instances', async () => {
    await freshSetup();
    const before = tier.containerIds();
    tier.secrets.setPool(TEST_POOL.replace('name: linux-amd64', 'name: linux-amd64-big'));
    const run = await tier.cli('setup');
    expect(run.code, run.output).toBe(3);
    expect(run.output).toContain(
      'vm-runner: pool file: instances added linux-amd64-big; removed linux-amd64',
    );
    expect(run.output).not.toMatch(/[✓=] runner\b/);
    expect(tier.containerIds()).toEqual(before);
    expect(tier.inspect('vm-runner', '{{.State.Status}}')).toBe('running');
  }, 120_000);

  it('leaves the old containers untouched when the change is refused', async () => {
    await freshSetup();
    const before = tier.containerIds();
    const started = tier.inspect(DELEGATE, '{{.State.StartedAt}}');
    writeFileSync(tier.secrets.files.token, 'cm90YXRlZC10b2tlbi1yZWZ1c2Vk\n');
    const run = await tier.cli('setup');
    expect(run.code, run.output).toBe(3);
    expect(run.output).toContain(`${DELEGATE}: DELEGATE_TOKEN: rotated`);
    expect(tier.containerIds()).toEqual(before);
    expect(tier.inspect(DELEGATE, '{{.State.StartedAt}}')).toBe(started);
  }, 120_000);

  it('rolls an upgrade whose new delegate never gets healthy back to the old image, running and healthy', async () => {
    await freshSetup();
    const held = neverHealthyTag('26.11.87100');
    const run = await tier.cli('upgrade', ['--delegate', '26.11.87100', '--yes']);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain(`rolled back to ${tier.images.delegate} and is healthy again`);
    expect(tier.inspect(DELEGATE, '{{.Config.Image}} {{.State.Status}}')).toBe(
      `${tier.images.delegate} running`,
    );
    expect(names()).toEqual([DELEGATE, 'vm-runner']);
    expect(tier.engine.docker(['exec', DELEGATE, 'curl', '-fs', 'localhost:3460/api/health'])).toContain(
      'SUCCESS',
    );
    expect(held).toContain(':26.11.87100');
  }, 180_000);

  it('removes the old delegate image once an upgrade is healthy, and keeps the new one', async () => {
    await freshSetup();
    const upgraded = publishDelegateTag(tier.engine, tier.images.delegate, '26.12.87200');
    const oldId = tier.engine.docker(['image', 'inspect', '-f', '{{.Id}}', tier.images.delegate]).trim();
    const run = await tier.cli('upgrade', ['--delegate', '26.12.87200', '--yes']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/removed its image \([\d.]+ MB freed\)/);
    expect(tier.inspect(DELEGATE, '{{.Config.Image}} {{.State.Status}}')).toBe(`${upgraded} running`);
    const left = tier.engine.docker(['image', 'ls', '-q', '--no-trunc']);
    expect(left).not.toContain(oldId);
    expect(left).toContain(tier.inspect(DELEGATE, '{{.Image}}'));
  }, 180_000);

  it('replaces the delegate for a rotated token after approval, and the old token is left nowhere', async () => {
    await freshSetup();
    const rotated = 'cm90YXRlZC1kZWxlZ2F0ZS10b2tlbi1uZXc9PQ==';
    writeFileSync(tier.secrets.files.token, `${rotated}\n`);
    const run = await tier.cli('setup', ['--yes']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`${DELEGATE}: DELEGATE_TOKEN: rotated`);
    expect(names()).toEqual([DELEGATE, 'vm-runner']);
    const everything = tier.engine.docker(['inspect', ...names()]);
    expect(everything).toContain(`DELEGATE_TOKEN=${rotated}`);
    expect(everything).not.toContain(TEST_TOKEN);
    expect(tier.engine.docker(['logs', DELEGATE])).not.toContain(TEST_TOKEN);
    expect(run.output).not.toContain(rotated);
  }, 180_000);
});
