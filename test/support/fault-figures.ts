/**
 * The reliability suite's figures (faults injected, runs completed, inputs refused, secrets found), written
 * to docs/reliability-figures.json by each test file under its own section, so docs/reliability.md can
 * cite the last run. Test files run in parallel: writers take a lock directory.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIGURES_FILE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../docs/reliability-figures.json',
);
const LOCK = join(dirname(FIGURES_FILE), '.reliability-figures.lock');

type Figures = Record<string, number | string | Record<string, number>>;

async function withLock<T>(work: () => T): Promise<T> {
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  for (let tries = 0; ; tries++) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 10_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {}
      if (tries > 400) throw new Error(`${LOCK} stayed locked`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Replaces this section's figures and recomputes the totals. */
export async function recordFigures(section: string, figures: Figures): Promise<void> {
  await withLock(() => {
    let all: { sections: Record<string, Figures & { at: string }>; totals?: Record<string, number> } = {
      sections: {},
    };
    try {
      all = JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as typeof all;
    } catch {}
    all.sections ??= {};
    all.sections[section] = { ...figures, at: new Date().toISOString() };
    const totals: Record<string, number> = {
      faultsInjected: 0,
      runsCompleted: 0,
      inputsRefused: 0,
      secretsFound: 0,
    };
    for (const s of Object.values(all.sections)) {
      for (const key of Object.keys(totals)) {
        const value = s[key];
        if (typeof value === 'number') totals[key] = (totals[key] ?? 0) + value;
      }
    }
    const sorted = Object.fromEntries(Object.entries(all.sections).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(FIGURES_FILE, `${JSON.stringify({ totals, sections: sorted }, null, 2)}\n`);
  });
}
