/**
 * Writes what a full run measured: bench/results.json (everything) and the goals table in
 * docs/performance.md, between markers, so that the analysis written around it stays. A quick run writes
 * bench/results-quick.json only, a `BENCH_PHASES` run bench/results-phases.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR } from './child.js';
import type { GoalRow } from './goals.js';
import { PUBLISHED, RESULTS_FILE } from './mode.js';

const DOC = join(BENCH_DIR, '..', 'docs', 'performance.md');
const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  goals: GoalRow[];
  sections: Record<string, unknown>;
  errors: Record<string, string>;
  /** When each benchmark was last measured, for reports merged from partial runs. */
  measured?: Record<string, string>;
  /** The machine each benchmark was last measured on (`2 × <cpu model>`), likewise. */
  measuredOn?: Record<string, string>;
}

export function machine(): BenchReport['machine'] {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
const machineLabel = (m: BenchReport['machine']) => `${m.cpus} × ${m.cpuModel}`;

/** When and where the rows were measured: one run, or each benchmark's last run for a merged report. */
function measuredLine(report: BenchReport): string {
  const raw = `Node ${report.machine.node}. Raw numbers: [bench/results.json](../bench/results.json).`;
  if (report.measured === undefined)
    return `Measured ${minute(report.finishedAt)} UTC, ${report.mode} run, ${machineLabel(report.machine)}, ${raw}`;
  const benches = Object.entries(report.measured)
    .sort(([, a], [, b]) => b.localeCompare(a))
    .map(([name, at]) => {
      const on = report.measuredOn?.[name];
      return `${name} ${minute(at)}${on === undefined ? '' : ` on ${on}`}`;
    });
  return `Measured benchmark by benchmark, latest first (UTC): ${benches.join('; ')}. ${raw}`;
}

export function goalsTable(report: BenchReport): string {
  const lines = [
    measuredLine(report),
    '',
    '| # | what | goal | measured | met? |',
    '|---|---|---|---|---|',
    ...report.goals.map(
      (g) =>
        `| ${g.id} | ${cell(g.what)} | ${cell(g.goal)} | ${cell(g.measured)} | ${g.met === null ? 'n/a' : g.met ? 'yes' : '**no**'} |`,
    ),
  ];
  const failed = Object.entries(report.errors);
  if (failed.length > 0) {
    lines.push('', ...failed.map(([name, error]) => `- \`${name}\` did not finish: ${cell(error)}`));
  }
  return lines.join('\n');
}

/** The bench a row of an older report came from, for rows written before rows named it. */
function benchOf(goal: GoalRow): string | undefined {
  if (goal.bench !== undefined) return goal.bench;
  if (goal.id.startsWith('1')) return 'ack';
  if (goal.id === '2' || goal.id === '3') return 'feedback';
  if (goal.id === '4') return 'engine';
  if (/^[56]/.test(goal.id)) return 'fleet';
  return undefined;
}

/**
 * A run of some benchmarks, merged into the last full report: their sections and rows replace the old
 * ones, the others stay as they were (with the time each was measured kept in its section).
 */
export function mergeReport(report: BenchReport, order: string[]): BenchReport {
  const json = join(BENCH_DIR, RESULTS_FILE);
  if (!existsSync(json)) return report;
  const previous = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  const ran = new Set(Object.keys(report.sections).concat(Object.keys(report.errors)));
  const kept = previous.goals.filter((goal) => !ran.has(benchOf(goal) ?? ''));
  const rank = (goal: GoalRow) => order.indexOf(benchOf(goal) ?? '');
  const errors = Object.fromEntries(Object.entries(previous.errors).filter(([name]) => !ran.has(name)));
  return {
    ...report,
    startedAt: previous.startedAt,
    goals: [...kept, ...report.goals].sort((a, b) => rank(a) - rank(b)),
    sections: { ...previous.sections, ...report.sections },
    errors: { ...errors, ...report.errors },
    measured: {
      ...(previous.measured ?? {}),
      ...Object.fromEntries([...ran].map((n) => [n, report.finishedAt])),
    },
    measuredOn: {
      ...(previous.measuredOn ?? {}),
      ...Object.fromEntries([...ran].map((n) => [n, machineLabel(report.machine)])),
    },
  };
}

export function writeReport(report: BenchReport): string[] {
  const json = join(BENCH_DIR, RESULTS_FILE);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  if (!PUBLISHED) return [json];
  const table = `${START}\n${goalsTable(report)}\n${END}`;
  const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Performance\n\n${START}\n${END}\n`;
  const from = current.indexOf(START);
  const to = current.indexOf(END);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${table}${current.slice(to + END.length)}`
      : `${current.trimEnd()}\n\n${table}\n`;
  writeFileSync(DOC, next);
  return [json, DOC];
}
