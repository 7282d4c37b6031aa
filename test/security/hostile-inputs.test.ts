/**
 * The hostile-input corpus (test/fixtures/hostile-inputs.json) against the real Bolt app: every case is a
 * signed (or deliberately mis-signed) request to /slack/events. Each must get a clear answer — the words a
 * person sees, or a 401/4xx for what Slack itself would never send — and change nothing: no Redis key under
 * the bot's prefix, no job, no message posted or edited, no docker call on the VM a worker stands ready for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorker, startWorker } from '../../jobs/setup-worker.js';
import { approvalRequestMessage } from '../../src/slack/blocks/approval-message.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import type { FakeMessage } from '../support/fake-slack.js';
import { recordFigures } from '../support/fault-figures.js';
import { quickClock, testVmAdapters, testVmEnv, testVmSettings } from '../support/queue-test-vm.js';
import { RecordingReporter } from '../support/recording-reporter.js';
import { type SlackAppHarness, shown, startSlackAppHarness } from '../support/slack-app-harness.js';
import {
  blockActionPayload,
  commandBody,
  postSigned,
  type SignOptions,
  sign,
  viewSubmissionPayload,
} from '../support/slack-request.js';

interface Expectation {
  status: number | string;
  says?: string;
  field?: string;
}
interface Case {
  id: string;
  kind: 'command' | 'click' | 'submission' | 'raw' | 'tampered' | 'replay';
  note?: string;
  todo?: string;
  expect: Expectation;
  [field: string]: unknown;
}

const corpus = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures', 'hostile-inputs.json'), 'utf8'),
) as { cases: Case[] };

/** Web API methods that change nothing a person sees in a channel. */
const HARMLESS = new Set(['auth.test', 'usergroups.users.list', 'chat.getPermalink', 'chat.postEphemeral']);

let vm: TestVm;
let h: SlackAppHarness;
let worker: RunningWorker;
const runs: Record<string, string> = {};
const requests = new Map<string, FakeMessage>();
let refused = 0;

beforeAll(async () => {
  vm = await startTestVm();
  const info = {
    host: vm.sshd.host,
    sshPort: vm.sshd.port,
    sshUser: vm.sshd.user,
    hostKeys: vm.sshd.hostKeys,
    runnerDir: vm.runnerDir,
    healthPort: vm.health.port,
    secretRefs: vm.secrets.refs,
  };
  // Default access settings (anyone may start, any channel): the most exposed configuration.
  h = await startSlackAppHarness({
    env: testVmEnv(info),
    usergroups: { S0OPS: ['U0REQ', 'U0OPS1'] },
  });
  // A worker ready to act on anything enqueued: a leaked job would show as docker calls on the VM. Its
  // sweep of decided runs is off: the decided run below stands for one parked for good, so that only a
  // request could wake it (the sweep, which would, is tested in test/queue/wake-decided.test.ts).
  worker = await startWorker(h.config, {
    timings: { decidedSweep: 0 },
    reporterFor: (run) => new RecordingReporter().forRun(run.id),
    engine: testVmAdapters(info),
    settings: testVmSettings(h.config, info),
    clock: quickClock,
  });
  runs.waiting = await seedRun('vm-wait', 'U0REQ', 'waiting');
  runs.other = await seedRun('vm-other', 'U0OTHER', 'waiting');
  runs.finished = await seedRun('vm-done', 'U0REQ', 'finished');
  runs.decided = await seedRun('vm-decided', 'U0REQ', 'decided');
}, 120_000);

afterAll(async () => {
  await recordFigures('hostile-inputs', {
    inputsRefused: refused,
    corpusCases: corpus.cases.length,
    knownGaps: corpus.cases.filter((c) => c.todo).length,
  });
  await worker?.close();
  await h?.close();
  await vm?.stop();
});

/**
 * A run record in the state a case needs. Its job stays parked for an hour, as a waiting run's job is, so
 * the run holds its VM and the ready worker only gets it if a case wrongly wakes it.
 */
async function seedRun(vmName: string, requester: string, kind: 'waiting' | 'finished' | 'decided') {
  const started = await h.queue.runs.start({
    target: { vm: vmName, project: undefined, zone: undefined },
    requester,
    channel: 'C0RUNS',
  });
  if (!started.ok) throw new Error(`${vmName} is busy`);
  const id = started.run.id;
  await (await h.queue.queue.getJob(id))?.changeDelay(3_600_000);
  const expiresAt = Date.now() + 3_600_000;
  const message = approvalRequestMessage({
    request: {
      runId: id,
      vm: vmName,
      hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
      delegateName: `${vmName}-delegate`,
      delegateImage: 'harness/delegate:25.03',
      accountId: 'acct_1',
      tags: '',
      expiresAt,
    },
    requester,
    approvers: ['U0APP', 'S0OPS'],
  });
  const parentTs = h.slack.seedMessage('C0RUNS', { text: `Gitspaces setup of ${vmName}`, blocks: [] });
  const ts = h.slack.seedMessage('C0RUNS', message, parentTs);
  requests.set(id, h.slack.message('C0RUNS', ts) as FakeMessage);
  await h.queue.store.update(id, {
    state: 'awaiting-approval',
    approvalExpiresAt: expiresAt,
    messageTs: parentTs,
    approvalTs: ts,
  });
  if (kind === 'finished')
    await h.queue.store.finish(id, 'succeeded', { at: Date.now(), by: 'system', detail: 'succeeded' });
  // Decided without waking the job: the decision is recorded, the job stays parked.
  if (kind === 'decided')
    await h.queue.store.decide(id, { kind: 'approved', by: 'U0APP2', at: Date.now() }, Date.now());
  return id;
}

function fill(text: string, respond = ''): string {
  return text
    .replaceAll('{{waiting}}', runs.waiting ?? '')
    .replaceAll('{{other}}', runs.other ?? '')
    .replaceAll('{{finished}}', runs.finished ?? '')
    .replaceAll('{{decided}}', runs.decided ?? '')
    .replaceAll('{{prefix}}', h.queue.prefix)
    .replaceAll('{{respond}}', respond);
}

/**
 * Everything under the prefix, and the job counts. Left out: BullMQ's event log and id counter (a setup
 * refused for a busy VM adds its job and removes it again: the log shows both, no job remains), and the
 * idle workers' stalled-check stamps (the setup worker's and the Slack delivery's).
 */
const BOOKKEEPING = /:(setup|slack):(events|id|stalled-check)$/;
async function snapshot(): Promise<string> {
  const entries = (await h.queue.dump()).filter(({ key }) => !BOOKKEEPING.test(key));
  const counts = await h.queue.queue.getJobCounts();
  return JSON.stringify({ entries: entries.sort((a, b) => a.key.localeCompare(b.key)), counts });
}

function signOptions(value: unknown): SignOptions {
  const s = (value ?? {}) as { secret?: string; ageSeconds?: number };
  return {
    ...(s.secret === undefined ? {} : { secret: s.secret }),
    ...(s.ageSeconds === undefined ? {} : { timestamp: Math.floor(Date.now() / 1000) - s.ageSeconds }),
  };
}

const form = (body: unknown) => new URLSearchParams({ payload: JSON.stringify(body) }).toString();

function clickBody(c: { actionId: string; value: string; user: string }, respond: string): string {
  const request = requests.get(runs.waiting ?? '') as FakeMessage;
  return form(
    blockActionPayload({
      actionId: c.actionId,
      value: c.value,
      user: c.user,
      message: { ts: request.ts, text: request.text, blocks: request.blocks },
      responseUrl: respond,
    }),
  );
}

interface Sent {
  statuses: number[];
  /** What the person who sent it was shown, one entry per answer: acks, response_url posts, ephemerals. */
  shown(): string[];
  ackBodies: Array<Record<string, unknown> | undefined>;
}

async function send(c: Case): Promise<Sent> {
  const id = `${c.id}-${Date.now()}`;
  const respond = h.slack.responseUrl(id);
  const ephemeralsBefore = h.slack.ephemerals.length;
  const statuses: number[] = [];
  const ackBodies: Array<Record<string, unknown> | undefined> = [];
  const record = async (response: Response) => {
    statuses.push(response.status);
    const text = await response.text();
    try {
      ackBodies.push(text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>));
    } catch {
      ackBodies.push({ text });
    }
  };
  const target = h.target;
  switch (c.kind) {
    case 'command': {
      const body = commandBody({ text: fill(c.text as string), user: 'U0REQ', responseUrl: respond });
      await record(await postSigned(target, body, signOptions(c.sign)));
      break;
    }
    case 'click': {
      const body = clickBody(
        { actionId: c.actionId as string, value: fill(c.value as string), user: c.user as string },
        respond,
      );
      await record(await postSigned(target, body));
      break;
    }
    case 'submission': {
      const body = form(
        viewSubmissionPayload({
          user: 'U0REQ',
          view: { callback_id: 'gitspaces_setup', private_metadata: c.metadata as string },
          values: c.values as Record<string, string | null>,
        }),
      );
      await record(await postSigned(target, body));
      break;
    }
    case 'raw': {
      const body = fill(c.body as string, respond);
      const now = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = { 'content-type': c.contentType as string };
      if (c.unsigned) {
        for (const [name, value] of Object.entries((c.headers ?? {}) as Record<string, string>)) {
          headers[name] = value
            .replace('{{now}}', String(now))
            .replace('{{hexOnly}}', sign(target.signingSecret, now, body).slice(3))
            .replace('{{signedWithText}}', sign(target.signingSecret, now, body));
        }
      } else {
        headers['x-slack-request-timestamp'] = String(now);
        headers['x-slack-signature'] = sign(target.signingSecret, now, body);
      }
      await record(await fetch(target.url, { method: 'POST', headers, body }));
      break;
    }
    case 'tampered': {
      const now = Math.floor(Date.now() / 1000);
      const [signedBody, sentBody] =
        c.text !== undefined
          ? [
              commandBody({ text: c.text as string, responseUrl: respond }),
              commandBody({ text: c.tamperedText as string, responseUrl: respond }),
            ]
          : [
              clickBody(
                { actionId: 'delegate_approve', value: fill(c.clickValue as string), user: 'U0APP' },
                respond,
              ),
              clickBody(
                { actionId: 'delegate_approve', value: fill(c.tamperedValue as string), user: 'U0APP' },
                respond,
              ),
            ];
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(now),
        'x-slack-signature': sign(target.signingSecret, now, signedBody),
      };
      await record(await fetch(target.url, { method: 'POST', headers, body: sentBody }));
      break;
    }
    case 'replay': {
      // One request captured as Slack signed it, then sent again byte for byte.
      const r = c.request as { kind: string; text?: string; actionId?: string; value?: string; user: string };
      const body =
        r.kind === 'command'
          ? commandBody({ text: r.text as string, user: r.user, responseUrl: respond })
          : clickBody(
              { actionId: r.actionId as string, value: fill(r.value as string), user: r.user },
              respond,
            );
      const timestamp = Math.floor(Date.now() / 1000) - Number(c.ageSeconds ?? 0);
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': sign(target.signingSecret, timestamp, body),
      };
      for (let i = 0; i < Number(c.times ?? 2); i++)
        await record(await fetch(target.url, { method: 'POST', headers, body }));
      break;
    }
  }
  return {
    statuses,
    ackBodies,
    shown: () => [
      ...ackBodies.filter((b) => b !== undefined).map((b) => shown(b)),
      ...h.slack.responses.filter((r) => r.id === id).map((r) => shown(r.body)),
      ...h.slack.ephemerals.slice(ephemeralsBefore).map((e) => `${e.text} ${JSON.stringify(e.blocks)}`),
    ],
  };
}

function statusMatches(status: number, wanted: number | string): boolean {
  if (typeof wanted === 'number') return status === wanted;
  const min = Number(/^>=(\d+)$/.exec(wanted)?.[1]);
  return status >= min;
}

describe('hostile and broken inputs', () => {
  it('has at least 100 cases, each with a unique id', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(corpus.cases.map((c) => c.id)).size).toBe(corpus.cases.length);
  });

  for (const c of corpus.cases) {
    const name = `${c.id}: ${c.note ?? c.kind} → ${c.expect.says ? `says /${c.expect.says}/` : `HTTP ${c.expect.status}`}, changes nothing`;
    if (c.todo !== undefined) {
      // Known product gap, reported: c.todo says where.
      it.todo(`${name} (${c.todo})`);
      continue;
    }
    it(name, async () => {
      const before = await snapshot();
      const slackCalls = h.slack.calls.length;
      const dockerCalls = vm.sshd.calls().length;
      const sent = await send(c);

      for (const status of sent.statuses)
        expect(statusMatches(status, c.expect.status), `HTTP ${status}`).toBe(true);
      const says = c.expect.says;
      if (says !== undefined) {
        const pattern = new RegExp(says, 'i');
        if (c.kind === 'submission') {
          const ack = sent.ackBodies[0] as { response_action?: string; errors?: Record<string, string> };
          expect(ack?.response_action).toBe('errors');
          expect(ack.errors?.[c.expect.field ?? 'vm']).toMatch(pattern);
        } else {
          const times = c.kind === 'replay' ? Number(c.times ?? 2) : 1;
          await h.slack.waitFor(
            `the answer to ${c.id}`,
            () => sent.shown().filter((answer) => pattern.test(answer)).length >= times,
            10_000,
          );
        }
      }
      // An accepted request with nothing to wait for: give anything it set off the time to show.
      if (says === undefined && sent.statuses.some((status) => status < 300))
        await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await snapshot();
      expect(after).toBe(before);
      const calls = h.slack.calls.slice(slackCalls).filter((call) => !HARMLESS.has(call.method));
      expect(calls.map((call) => call.method)).toEqual([]);
      expect(vm.sshd.calls().length).toBe(dockerCalls);
      refused += 1;
    });
  }

  it('left every seeded run as it was and never reached the VM', async () => {
    expect((await h.queue.runs.get(runs.waiting ?? ''))?.decision).toBeUndefined();
    expect((await h.queue.runs.get(runs.other ?? ''))?.decision).toBeUndefined();
    expect((await h.queue.runs.get(runs.decided ?? ''))?.decision).toMatchObject({
      kind: 'approved',
      by: 'U0APP2',
    });
    expect(vm.sshd.calls()).toEqual([]);
  });
});
