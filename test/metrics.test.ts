import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { healthListener } from '../src/slack/health/health-routes.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(metrics: Metrics): Promise<string> {
  // The routes the bot serves beside /healthz and /readyz (here as in Socket Mode, on a server of their own).
  const handler = healthListener({
    redis: undefined,
    identity: { check: async () => ({ ok: true, detail: 'ok' }) },
    metrics: metrics.registry,
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function scrape(base: string): Promise<{ contentType: string | null; body: string }> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  return { contentType: res.headers.get('content-type'), body: await res.text() };
}

/** The value of the sample `name{labels}` (labels as written by prom-client, sorted as given), or undefined. */
function sample(body: string, name: string, labels = ''): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('shows runs by state, step durations, Slack calls and 429s and SSH failures in the Prometheus text format', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.runState('queued');
    metrics.runState('queued');
    metrics.runState('failed:runner-health');
    metrics.runState('succeeded');
    metrics.observeStep('docker', 'done', 42);
    metrics.observeStep('docker', 'unchanged', 0.3);
    metrics.startStep('network')('failed');
    metrics.slackCall('chat.update');
    metrics.slackCall('chat.update');
    metrics.slackRateLimited('chat.update');
    metrics.sshFailure('SSH_AUTH_FAILED');
    const { contentType, body } = await scrape(await serve(metrics));
    expect(contentType).toContain('text/plain');
    expect(contentType).toContain('version=0.0.4');
    expect(body).toContain('# TYPE gitspaces_runs_total counter');
    expect(sample(body, 'gitspaces_runs_total', 'state="queued"')).toBe(2);
    expect(sample(body, 'gitspaces_runs_total', 'state="failed"')).toBe(1);
    expect(sample(body, 'gitspaces_runs_total', 'state="succeeded"')).toBe(1);
    expect(body).toContain('# TYPE gitspaces_step_duration_seconds histogram');
    expect(sample(body, 'gitspaces_step_duration_seconds_count', 'step="docker",outcome="done"')).toBe(1);
    expect(sample(body, 'gitspaces_step_duration_seconds_sum', 'step="docker",outcome="done"')).toBe(42);
    expect(
      sample(body, 'gitspaces_step_duration_seconds_bucket', 'le="60",step="docker",outcome="done"'),
    ).toBe(1);
    expect(
      sample(body, 'gitspaces_step_duration_seconds_bucket', 'le="30",step="docker",outcome="done"'),
    ).toBe(0);
    expect(sample(body, 'gitspaces_step_duration_seconds_count', 'step="network",outcome="failed"')).toBe(1);
    expect(sample(body, 'gitspaces_slack_api_calls_total', 'method="chat.update"')).toBe(2);
    expect(sample(body, 'gitspaces_slack_rate_limited_total', 'method="chat.update"')).toBe(1);
    expect(sample(body, 'gitspaces_ssh_failures_total', 'code="SSH_AUTH_FAILED"')).toBe(1);
  });

  it('reads queue depth and waiting approvals when scraped, and shows none rather than stale values when they fail', async () => {
    let counts: Record<string, number> = { waiting: 3, active: 1, delayed: 2 };
    let approvals: number | Error = 2;
    const metrics = createMetrics({ processMetrics: false, queueCounts: async () => counts });
    metrics.setWaitingApprovals(() => {
      if (approvals instanceof Error) throw approvals;
      return approvals;
    });
    const base = await serve(metrics);
    const first = (await scrape(base)).body;
    expect(sample(first, 'gitspaces_queue_jobs', 'state="waiting"')).toBe(3);
    expect(sample(first, 'gitspaces_queue_jobs', 'state="delayed"')).toBe(2);
    expect(sample(first, 'gitspaces_waiting_approvals')).toBe(2);
    counts = { waiting: 0, active: 4 };
    approvals = 0;
    const second = (await scrape(base)).body;
    expect(sample(second, 'gitspaces_queue_jobs', 'state="active"')).toBe(4);
    expect(sample(second, 'gitspaces_queue_jobs', 'state="delayed"')).toBeUndefined();
    expect(sample(second, 'gitspaces_waiting_approvals')).toBe(0);
    metrics.setQueueCounts(async () => {
      throw new Error('Redis is down');
    });
    approvals = new Error('Redis is down');
    const third = (await scrape(base)).body;
    expect(third).toContain('# TYPE gitspaces_queue_jobs gauge');
    expect(sample(third, 'gitspaces_queue_jobs', 'state="active"')).toBeUndefined();
    expect(sample(third, 'gitspaces_waiting_approvals')).toBeNaN();
  });

  it("includes Node's process metrics by default", async () => {
    const { body } = await scrape(await serve(createMetrics()));
    expect(body).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('answers 404 for other paths and for other methods', async () => {
    const base = await serve(createMetrics({ processMetrics: false }));
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it("shows each watched VM's health, Docker disk, probe times and notices by kind; no sample for a VM that could not be probed", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.watch.probed('vm-1', 0.8, 'healthy', 93);
    metrics.watch.probed('vm-2', 1.2, 'unhealthy');
    metrics.watch.probed('vm-3', 2, 'healthy', 40);
    metrics.watch.probed('vm-3', 90, 'unreachable');
    metrics.watch.noticed('unhealthy');
    metrics.watch.noticed('unhealthy');
    metrics.watch.noticed('recovered');
    const { body } = await scrape(await serve(metrics));
    expect(sample(body, 'gitspaces_vm_healthy', 'vm="vm-1"')).toBe(1);
    expect(sample(body, 'gitspaces_vm_healthy', 'vm="vm-2"')).toBe(0);
    expect(sample(body, 'gitspaces_vm_healthy', 'vm="vm-3"')).toBeUndefined();
    expect(sample(body, 'gitspaces_vm_probe_seconds_count')).toBe(4);
    expect(sample(body, 'gitspaces_vm_disk_used_percent', 'vm="vm-1"')).toBe(93);
    expect(sample(body, 'gitspaces_vm_disk_used_percent', 'vm="vm-2"')).toBeUndefined();
    expect(sample(body, 'gitspaces_vm_disk_used_percent', 'vm="vm-3"')).toBeUndefined();
    expect(sample(body, 'gitspaces_watch_notices_total', 'kind="unhealthy"')).toBe(2);
    expect(sample(body, 'gitspaces_watch_notices_total', 'kind="recovered"')).toBe(1);
  });
});
