/**
 * A watch worker in a process of its own, so that a test can kill it with SIGKILL mid-probe. It reads what it
 * needs (no secret values) from GSB_QUEUE_CHILD and prints `ready` once it takes probe jobs. Notices are not
 * sent anywhere: the test reads the probes' results from the watch records.
 */
import { silentLog } from '../../src/log.js';
import { connectRedis, createProducerConnection, createWorkerConnection } from '../../src/queue/redis.js';
import type { RunRecord, RunTarget } from '../../src/queue/types.js';
import { watchLookWith } from '../../src/vm-actions.js';
import { createWatchStore } from '../../src/watch/watch-store.js';
import { startWatchWorker } from '../../src/watch/watch-worker.js';
import { testConfig } from './queue-harness.js';
import { type TestVmInfo, testVmAdapters, testVmEnv, testVmSettings } from './queue-test-vm.js';

export interface WatchChildSpec {
  prefix: string;
  info: TestVmInfo;
  intervalMs: number;
}

const spec = JSON.parse(process.env.GSB_QUEUE_CHILD ?? '{}') as WatchChildSpec;
const config = testConfig(spec.prefix, testVmEnv(spec.info));
const redis = createProducerConnection(config);
await connectRedis(redis, config.redisUrl);
const settings = (target: RunTarget) =>
  testVmSettings(config, spec.info)({ target, delegateName: undefined, tags: undefined } as RunRecord);
await startWatchWorker({
  store: createWatchStore(redis, spec.prefix),
  redis,
  workerConnection: () => createWorkerConnection(config, { onError: () => undefined }),
  prefix: spec.prefix,
  network: 'harness',
  intervalMs: spec.intervalMs,
  look: watchLookWith(config, { adapters: testVmAdapters(spec.info), settings }),
  notify: async () => undefined,
  now: Date.now,
  log: silentLog,
});
process.stdout.write('ready\n');
