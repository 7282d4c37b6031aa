/**
 * Child process: the product's Slack app (Bolt HTTPReceiver, real run service on Redis) and a bare Bolt app
 * of the same Bolt version whose only listener acks, side by side on two ports. Answers `quiet` once its
 * event loop has been idle for a moment, so that one batch's after-ack work never leaks into the next.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { App, HTTPReceiver } from '@slack/bolt';
import { destination, pino } from 'pino';
import { openRunService } from '../../src/queue/open-run-service.js';
import { createApp } from '../../src/slack/create-app.js';
import { testConfig } from '../../test/support/queue-harness.js';
import { parent } from '../lib/child.js';

export interface AckServerSpec {
  prefix: string;
  slackUrl: string;
  signingSecret: string;
  botToken: string;
}

const spec = parent.spec<AckServerSpec>();
const config = testConfig(spec.prefix, {
  SLACK_BOT_TOKEN: spec.botToken,
  SLACK_SIGNING_SECRET: spec.signingSecret,
  SLACK_API_URL: spec.slackUrl,
  PORT: '0',
  GCP_PROJECT: 'acme-gitspaces',
  GCP_ZONE: 'us-central1-a',
  APPROVERS: 'U0APP',
});

// The product logs as in production (JSON lines), to /dev/null instead of stdout.
const log = pino({ name: 'gitspaces-bot' }, destination({ dest: '/dev/null', sync: false }));
const service = await openRunService(config);
const product = createApp(config, { runService: service.runs, redis: service.redis, log });
const { port: productPort } = await product.start();

// The baseline: the same App options that shape request handling, a listener that only acks.
const bare = new App({
  receiver: new HTTPReceiver({ signingSecret: spec.signingSecret, endpoints: '/slack/events' }),
  authorize: async () => ({ botToken: spec.botToken }),
  convoStore: false,
  ignoreSelf: false,
});
bare.command('/gitspaces', async ({ ack }) => {
  await ack();
});
const bareServer = (await bare.start(0)) as Server;

parent.on('quiet', async () => {
  const deadline = Date.now() + 15_000;
  let elu = performance.eventLoopUtilization();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const window = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    if (window.utilization < 0.03 || Date.now() > deadline) {
      parent.send({ type: 'quiet', utilization: window.utilization });
      return;
    }
  }
});

parent.on('stop', async () => {
  await product.close();
  await bare.stop();
  await service.close();
  process.exit(0);
});

parent.send({
  type: 'ready',
  product: productPort,
  bare: (bareServer.address() as AddressInfo).port,
});
