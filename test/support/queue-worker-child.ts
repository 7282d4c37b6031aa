/**
 * A setup worker in a process of its own, so that a test can kill it with SIGKILL mid-run. It reads what
 * it needs (no secret values) from GSB_QUEUE_CHILD, writes what it reports to a JSON-lines file, and
 * prints `ready` once it takes jobs.
 */
import { startWorker, type WorkerTimings } from '../../jobs/setup-worker.js';
import { testConfig } from './queue-harness.js';
import { quickClock, type TestVmInfo, testVmAdapters, testVmEnv, testVmSettings } from './queue-test-vm.js';
import { RecordingReporter } from './recording-reporter.js';

export interface WorkerChildSpec {
  prefix: string;
  info: TestVmInfo;
  env: Record<string, string>;
  eventsFile: string;
  timings: WorkerTimings;
}

const spec = JSON.parse(process.env.GSB_QUEUE_CHILD ?? '{}') as WorkerChildSpec;
const config = testConfig(spec.prefix, testVmEnv(spec.info, spec.env));
const seen = new RecordingReporter(spec.eventsFile);
const worker = await startWorker(config, {
  reporterFor: (run) => seen.forRun(run.id),
  engine: testVmAdapters(spec.info),
  settings: testVmSettings(config, spec.info),
  clock: quickClock,
  timings: spec.timings,
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
