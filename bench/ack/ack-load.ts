/**
 * Child process: the load generator. Sends batches of signed `/gitspaces` requests at a fixed concurrency
 * over keep-alive connections and reports each request's latency (request written → response ended). The
 * body is built and signed before the clock starts: signing is Slack's work, not the bot's.
 */
import { Agent, request } from 'node:http';
import { commandBody, sign } from '../../test/support/slack-request.js';
import { parent } from '../lib/child.js';
import { now } from '../lib/clock.js';

export interface BatchRequest {
  type: 'batch';
  port: number;
  signingSecret: string;
  concurrency: number;
  /** One command per entry, sent in this order. */
  commands: Array<{ text: string; channel: string; responseUrl: string }>;
}

export interface BatchResult {
  type: 'batch';
  [field: string]: unknown;
  latencies: number[];
  statuses: Record<string, number>;
}

const agents = new Map<number, Agent>();
function agentFor(port: number, concurrency: number): Agent {
  let agent = agents.get(port);
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    agents.set(port, agent);
  }
  return agent;
}

function send(
  port: number,
  agent: Agent,
  body: string,
  signingSecret: string,
): Promise<{ ms: number; status: number }> {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(body),
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sign(signingSecret, timestamp, body),
  };
  return new Promise((resolve, reject) => {
    const started = now();
    const req = request(
      { host: '127.0.0.1', port, path: '/slack/events', method: 'POST', headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: now() - started, status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

parent.on<BatchRequest & { [k: string]: unknown }>('batch', async (batch) => {
  const agent = agentFor(batch.port, batch.concurrency);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  async function lane(): Promise<void> {
    while (next < batch.commands.length) {
      const command = batch.commands[next++];
      if (command === undefined) return;
      const body = commandBody({ ...command, user: 'U0REQ' });
      try {
        const { ms, status } = await send(batch.port, agent, body, batch.signingSecret);
        latencies.push(ms);
        statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      } catch (error) {
        statuses[String((error as Error).message)] = (statuses[String((error as Error).message)] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: batch.concurrency }, lane));
  parent.send({ type: 'batch', latencies, statuses } satisfies BatchResult);
});

parent.on('stop', () => {
  for (const agent of agents.values()) agent.destroy();
  process.exit(0);
});

parent.send({ type: 'ready' });
