/**
 * `npm run bench`: every benchmark in one run on this machine, then bench/results.json and the goals table
 * in docs/performance.md. `BENCH_QUICK=1` for a smoke run with small samples, `BENCH_ONLY=ack,engine` for
 * some of them (their sections and rows replace the same ones of the last full run; the rest stay). Needs
 * Redis on 127.0.0.1:6379 and OpenSSH (sshd and ssh), like the tests; `real-engine` also needs root,
 * docker.io, busybox-static and docker-registry (as the real-engine test tier).
 */
import { ackBench } from './ack/ack-bench.js';
import { engineBench } from './engine/engine-bench.js';
import { feedbackBench } from './feedback/feedback-bench.js';
import { fleetBench } from './fleet/fleet-bench.js';
import type { GoalRow } from './lib/goals.js';
import { partial, QUICK, selected } from './lib/mode.js';
import { type BenchReport, goalsTable, machine, mergeReport, writeReport } from './lib/report.js';
import { realEngineBench } from './real-engine/real-engine-bench.js';
import { watchBench } from './watch/watch-bench.js';

interface Bench {
  name: string;
  run(): Promise<{ results: unknown; goals: GoalRow[] }>;
}

const BENCHES: Bench[] = [
  { name: 'ack', run: ackBench },
  { name: 'feedback', run: feedbackBench },
  { name: 'engine', run: engineBench },
  { name: 'fleet', run: fleetBench },
  { name: 'real-engine', run: realEngineBench },
  { name: 'watch', run: watchBench },
];

const report: BenchReport = {
  startedAt: new Date().toISOString(),
  finishedAt: '',
  mode: QUICK ? 'quick' : 'full',
  machine: machine(),
  goals: [],
  sections: {},
  errors: {},
};

for (const bench of BENCHES) {
  if (!selected(bench.name)) continue;
  const started = Date.now();
  process.stdout.write(`bench ${bench.name}: running…\n`);
  try {
    const { results, goals } = await bench.run();
    report.sections[bench.name] = results;
    report.goals.push(...goals.map((goal) => ({ ...goal, bench: bench.name })));
    for (const goal of goals) {
      process.stdout.write(`  ${goal.met ? 'met ' : 'MISS'} ${goal.id} ${goal.what}: ${goal.measured}\n`);
    }
  } catch (error) {
    report.errors[bench.name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stdout.write(`  FAILED: ${report.errors[bench.name]}\n`);
  }
  process.stdout.write(`bench ${bench.name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

report.finishedAt = new Date().toISOString();
const written = writeReport(
  partial
    ? mergeReport(
        report,
        BENCHES.map((b) => b.name),
      )
    : report,
);
process.stdout.write(`\n${goalsTable(report)}\n\nwrote ${written.join(', ')}\n`);
process.exit(Object.keys(report.errors).length > 0 ? 1 : 0);
