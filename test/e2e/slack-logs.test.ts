/**
 * `/gitspaces logs <vm> runner|delegate [lines]` end to end: the real app reads the test VM's containers over
 * SSH as `serve` wires it, and answers through the fake Slack (a code block, or a file uploaded in two steps).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord, RunTarget } from '../../src/queue/types.js';
import type { LogsVm } from '../../src/slack/index.js';
import { logsVmWith } from '../../src/vm-actions.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { POOL_PASSWORD, startLogContainers } from '../support/log-containers.js';
import {
  type TestVmInfo,
  testVmAdapters,
  testVmEnv,
  testVmInfo,
  testVmSettings,
} from '../support/queue-test-vm.js';
import { TEST_TOKEN } from '../support/secrets-dir.js';
import { type SlackAppHarness, shown, startSlackAppHarness } from '../support/slack-app-harness.js';

let vm: TestVm;
let info: TestVmInfo;
let h: SlackAppHarness;

beforeAll(async () => {
  vm = await startTestVm();
  info = testVmInfo(vm);
});
afterAll(async () => vm?.stop());
afterEach(async () => h?.close());

async function openApp(env: Record<string, string> = {}): Promise<void> {
  const settings = (target: RunTarget) =>
    testVmSettings(h.config, info)({ target, delegateName: undefined, tags: undefined } as RunRecord);
  // The harness builds the config; the action reads it when called.
  const logsVm: LogsVm = (target, request) =>
    logsVmWith(h.config, { adapters: testVmAdapters(info), settings })(target, request);
  h = await startSlackAppHarness({ env: testVmEnv(info, env), deps: { logsVm } });
}

/** Everything the bot sent Slack: Web API calls, response_url posts, uploaded files. */
const everythingSent = () => JSON.stringify([h.slack.calls, h.slack.responses, h.slack.files.shared]);

const logins = () => (vm.sshd.log().match(/Accepted publickey/g) ?? []).length;

describe('/gitspaces logs', () => {
  it('posts a short log in the channel as a code block under a header naming the VM, container and lines', async () => {
    startLogContainers(vm, { chatty: 12 });
    await openApp();
    const answer = await h.command('logs vm-1 runner 20');
    expect(shown(await h.response(answer, 1))).toContain('Fetching the last 20 lines of the runner log');
    const result = await h.response(answer, 2);
    expect(result).toMatchObject({ response_type: 'in_channel' });
    const text = shown(result);
    expect(text).toContain('*vm-1* · `vm-runner` · last 20 lines');
    expect(text).toMatch(/```[^`]*vm-runner chatter line 12 of 12[^`]*```/);
    expect(h.slack.files.shared).toEqual([]);
  });

  it('uploads a long log as a file in the channel, every line intact and in order', async () => {
    startLogContainers(vm, { chatty: 2000 });
    await openApp();
    await h.command('logs vm-1 delegate 2000');
    const file = await h.slack.waitFor('the uploaded log', () => h.slack.files.shared[0], 60_000);
    const expected = Array.from({ length: 2000 }, (_, i) => `vm-1-delegate chatter line ${i + 1} of 2000`);
    expect(file).toMatchObject({ channel: 'C0RUNS', filename: 'vm-1-vm-1-delegate.log' });
    expect(file.content).toBe(`${expected.join('\n')}\n`);
    expect(file.comment).toContain('*vm-1* · `vm-1-delegate` · last 2000 lines');
    expect(h.slack.callsTo('files.getUploadURLExternal')).toEqual([expect.objectContaining({ ok: true })]);
    expect(h.slack.callsTo('files.completeUploadExternal')).toEqual([
      expect.objectContaining({ ok: true, args: expect.objectContaining({ channel_id: 'C0RUNS' }) }),
    ]);
  });

  it('masks the delegate token and the pool file password a container prints, in messages and files', async () => {
    startLogContainers(vm, { leaky: true, chatty: 100 });
    await openApp();
    const delegate = await h.command('logs vm-1 delegate 5');
    expect(shown(await h.response(delegate, 2))).toContain('env DELEGATE_TOKEN=***');
    const runner = await h.command('logs vm-1 runner 5000');
    const file = await h.slack.waitFor('the runner log file', () => h.slack.files.shared[0], 60_000);
    expect(file.content).toContain('pool file:         password: ***');
    expect(runner.status).toBe(200);
    await h.command('logs vm-1 delegate 5000');
    const second = await h.slack.waitFor('the delegate log file', () => h.slack.files.shared[1], 60_000);
    expect(second.content).toContain('env DELEGATE_TOKEN=***');
    expect(everythingSent()).not.toContain(TEST_TOKEN);
    expect(everythingSent()).not.toContain(POOL_PASSWORD);
  });

  it('says how to fix a container that is not there', async () => {
    vm.resetDocker();
    await openApp();
    const answer = await h.command('logs vm-1 delegate');
    const result = await h.response(answer, 2);
    expect(result).toMatchObject({ response_type: 'ephemeral' });
    expect(shown(result)).toContain('no container vm-1-delegate on vm-1: run /gitspaces setup vm-1');
  });

  it('refuses someone who may not run setup, without connecting to the VM', async () => {
    startLogContainers(vm, { chatty: 3 });
    await openApp({ SETUP_ALLOWED: 'U0REQ' });
    const before = logins();
    const answer = await h.command('logs vm-1 runner', { user: 'U0STRANGER' });
    const result = await h.response(answer, 1);
    expect(result).toMatchObject({ response_type: 'ephemeral' });
    expect(shown(result)).toContain('not allowed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answer.responses()).toHaveLength(1);
    expect(logins()).toBe(before);
    // The same request from someone allowed does log in (so the count above means something).
    await h.response(await h.command('logs vm-1 runner'), 2);
    expect(logins()).toBe(before + 1);
  });

  it('answers a bad line count or container word with the usage, saying what to type', async () => {
    await openApp();
    const before = logins();
    for (const count of ['0', '6000', 'abc']) {
      const answer = await h.command(`logs vm-1 runner ${count}`);
      expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
      expect(shown(answer.body)).toContain(
        `\`${count}\` is not a line count: give a whole number from 1 to 5000`,
      );
    }
    const word = await h.command('logs vm-1 web');
    expect(shown(word.body)).toContain('`web` is not a container: use `runner` or `delegate`');
    const missing = await h.command('logs vm-1');
    expect(shown(missing.body)).toContain('`/gitspaces logs` takes a VM, `runner` or `delegate`');
    expect(logins()).toBe(before);
  });
});
