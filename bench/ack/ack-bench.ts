/**
 * 1. Command ack latency: signed `/gitspaces status` and `/gitspaces setup <vm>` requests at 50 in flight
 * against the product's Bolt HTTP receiver, beside a bare Bolt app in the same server process, batch by
 * batch in rotating order, the server idle before every batch.
 */
import { join } from 'node:path';
import { startFakeSlack } from '../../test/support/fake-slack.js';
import { BENCH_DIR, type Message, startChild } from '../lib/child.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { benchPrefix, dropPrefix } from '../lib/redis-prefix.js';
import { type Summary, summarize } from '../lib/stats.js';
import type { BatchRequest, BatchResult } from './ack-load.js';

const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const BOT_TOKEN = 'xoxb-bench';
const CONCURRENCY = 50;

type Kind = 'bare' | 'status' | 'setup' | 'setup-refused';
const KINDS: Kind[] = ['bare', 'status', 'setup', 'setup-refused'];

export interface AckResults {
  concurrency: number;
  requestsPerKind: number;
  latencyMs: Record<Kind, Summary>;
  /** The same requests one at a time. */
  serialLatencyMs: Record<Kind, Summary>;
  /**
   * Each measured batch's p50 and p99 in the order run: the kinds' batches alternate, so a batch slowed by
   * something else on the machine shows as such in every kind's neighbours (bare included).
   */
  batches: Array<{ kind: Kind; p50: number; p99: number }>;
  statuses: Record<Kind, Record<string, number>>;
  notes: string[];
}

export async function ackBench(): Promise<{ results: AckResults; goals: GoalRow[] }> {
  const rounds = size(2, 10);
  const perBatch = size(100, 200);
  const warmup = size(50, 200);
  const serialCount = size(50, 300);
  const prefix = benchPrefix('ack');
  const slack = await startFakeSlack({ token: BOT_TOKEN, rateLimits: true });
  const server = await startChild(join(BENCH_DIR, 'ack/ack-server.ts'), {
    name: 'ack-server',
    env: {
      BENCH_SPEC: JSON.stringify({
        prefix,
        slackUrl: slack.url,
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
      }),
    },
  });
  const load = await startChild(join(BENCH_DIR, 'ack/ack-load.ts'), { name: 'ack-load' });
  const ports: Record<Kind, number> = {
    bare: server.ready.bare as number,
    status: server.ready.product as number,
    setup: server.ready.product as number,
    'setup-refused': server.ready.product as number,
  };
  let vmCount = 0;
  let responseCount = 0;
  const responseUrl = () => slack.responseUrl(`ack-${responseCount++}`);

  /** Setups name a new VM each (so each is accepted and starts a run) in a channel of its own. */
  function commands(kind: Kind, count: number): BatchRequest['commands'] {
    return Array.from({ length: count }, (_, i) => {
      switch (kind) {
        case 'bare':
        case 'status':
          return { text: 'status', channel: `C0ACK${i % 20}`, responseUrl: responseUrl() };
        case 'setup': {
          const n = vmCount++;
          return {
            text: `setup ack-vm-${n}`,
            channel: `C0S${n.toString(36).toUpperCase()}`,
            responseUrl: responseUrl(),
          };
        }
        default:
          // setup-refused: ack-vm-0 has an active run (queued, no worker here), refused with a link to its thread.
          return { text: 'setup ack-vm-0', channel: 'C0S0', responseUrl: responseUrl() };
      }
    });
  }

  async function batch(kind: Kind, count: number, concurrency = CONCURRENCY): Promise<BatchResult> {
    server.send({ type: 'quiet' });
    await server.next('quiet', 30_000);
    load.send({
      type: 'batch',
      port: ports[kind],
      signingSecret: SIGNING_SECRET,
      concurrency,
      commands: commands(kind, count),
    });
    return load.next<BatchResult & Message>('batch', 300_000);
  }

  const latencies: Record<Kind, number[]> = { bare: [], status: [], setup: [], 'setup-refused': [] };
  const batches: AckResults['batches'] = [];
  const serial: Record<Kind, number[]> = { bare: [], status: [], setup: [], 'setup-refused': [] };
  const statuses: Record<Kind, Record<string, number>> = {
    bare: {},
    status: {},
    setup: {},
    'setup-refused': {},
  };
  try {
    // ack-vm-0 first, so that the refused kind always finds it active; then warm every path up.
    await batch('setup', 1);
    for (const kind of KINDS) await batch(kind, warmup);
    for (let r = 0; r < rounds; r++) {
      const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length] as Kind);
      for (const kind of order) {
        const result = await batch(kind, perBatch);
        latencies[kind].push(...result.latencies);
        const { p50, p99 } = summarize(result.latencies);
        batches.push({ kind, p50, p99 });
        for (const [status, n] of Object.entries(result.statuses))
          statuses[kind][status] = (statuses[kind][status] ?? 0) + n;
      }
    }
    // One request at a time: what a single command costs when nothing queues.
    for (const kind of KINDS) serial[kind].push(...(await batch(kind, serialCount, 1)).latencies);
  } finally {
    await load.stop();
    await server.stop();
    await slack.close();
    await dropPrefix(prefix);
  }

  const latencyMs = Object.fromEntries(KINDS.map((k) => [k, summarize(latencies[k])])) as Record<
    Kind,
    Summary
  >;
  const results: AckResults = {
    concurrency: CONCURRENCY,
    requestsPerKind: rounds * perBatch,
    latencyMs,
    serialLatencyMs: Object.fromEntries(KINDS.map((k) => [k, summarize(serial[k])])) as Record<Kind, Summary>,
    batches,
    statuses,
    notes: [
      'setup: every request names a new VM in a channel of its own, so each is accepted: a run record, a queued job, the parent message posted after the ack.',
      'setup-refused: the same VM again while its run is active: refused with a link to its thread (chat.getPermalink, response_url).',
    ],
  };
  const bareP99 = latencyMs.bare.p99;
  const goals = (['status', 'setup'] as const).flatMap((kind) => {
    const s = latencyMs[kind];
    const ratio = s.p99 / bareP99;
    return [
      row(
        `1-${kind}`,
        `ack of \`/gitspaces ${kind === 'setup' ? 'setup <vm>' : 'status'}\`, ${CONCURRENCY} in flight`,
        'p99 < 50 ms and ≤ 1.3× bare Bolt p99',
        `p99 ${fmt(s.p99)} ms (p50 ${fmt(s.p50)}, n=${s.n}); bare p99 ${fmt(bareP99)} ms → ${fmt(ratio, 2)}×`,
        s.p99 < 50 && ratio <= 1.3,
      ),
    ];
  });
  return { results, goals };
}
