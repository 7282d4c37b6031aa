/** Waiting for runs' Slack messages to be sent: the `slack` queue with nothing waiting, delayed or running. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SLACK_QUEUE } from '../../src/slack/delivery/slack-delivery.js';

export async function slackJobsIdle(redis: Redis, prefix: string): Promise<void> {
  const queue = new Queue(SLACK_QUEUE, { connection: redis, prefix });
  try {
    for (;;) {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).every((n) => n === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await queue.close();
  }
}
