import type { ConfigCheckRow } from './rows.js';

const HEADERS = ['CHECK', 'STATUS', 'DETAIL', 'FIX'] as const;
/** Widest a column gets before its text wraps, so a row stays readable in an 80-160 column terminal. */
const MAX_WIDTH = [40, 6, 56, 56] as const;

/** Splits text into lines no wider than `width`, at spaces when possible. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      let rest = word;
      while (rest.length > width) {
        if (line !== '') lines.push(line);
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
        line = '';
      }
      if (line === '') line = rest;
      else if (line.length + 1 + rest.length <= width) line = `${line} ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** The rows as a plain-text table: check | ok/FAIL/skip | detail | fix, long cells wrapped within their column. */
export function formatTable(rows: readonly ConfigCheckRow[]): string {
  const cells = rows.map((r) => [r.check, r.status, r.detail, r.fix ?? '']);
  const widths = HEADERS.map((header, i) =>
    Math.min(MAX_WIDTH[i] ?? 40, Math.max(header.length, ...cells.map((c) => longestLine(c[i] ?? '')))),
  );
  const render = (row: readonly string[]): string[] => {
    const wrapped = row.map((cell, i) => wrap(cell, widths[i] ?? 40));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, line) =>
      wrapped
        .map((w, i) => (w[line] ?? '').padEnd(i === row.length - 1 ? 0 : (widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
  };
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [...render(HEADERS), rule, ...cells.flatMap(render)].join('\n');
}

function longestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map((l) => l.length));
}
