/** The audit for reading in a terminal: a line per run, then a line per step under it. All times UTC. */
import { formatDuration } from '../duration.js';
import type { AuditRow, AuditStep } from './audit-row.js';

/**
 * Step summaries and typed images come from VMs and people: control characters are blanked so that
 * nothing printed can move the cursor or rewrite earlier lines of the terminal.
 */
function plain(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** `2025-01-31 14:05:09`: ISO without the noise, for columns. */
function when(iso: string | null): string {
  return iso === null ? '-' : iso.slice(0, 19).replace('T', ' ');
}

function stepLine(step: AuditStep): string {
  const span = step.start === null && step.end === null ? '' : `${when(step.start)} → ${when(step.end)}`;
  const took = step.durationMs === null ? '' : ` (${formatDuration(step.durationMs)})`;
  const summary = step.summary === null ? '' : `  ${plain(step.summary)}`;
  return `    ${step.id.padEnd(16)} ${step.result.padEnd(9)} ${span}${took}${summary}`.trimEnd();
}

function runLine(row: AuditRow): string {
  const parts = [when(row.createdAt), row.vm, row.kind, row.state, `requested by ${row.requester}`];
  if (row.decision !== null)
    parts.push(
      row.decider === null ? row.decision : `${row.decision} by ${row.decider} at ${when(row.decidedAt)}`,
    );
  const images = Object.entries(row.images).filter(([, image]) => image !== null);
  if (images.length > 0) parts.push(images.map(([name, image]) => `${name}=${image}`).join(' '));
  parts.push(`finished ${when(row.finishedAt)}`, `run ${row.run}`);
  return plain(parts.join('  ·  '));
}

export function auditTable(rows: readonly AuditRow[], heading: string): string {
  const lines = [heading];
  for (const row of rows) lines.push('', runLine(row), ...row.steps.map(stepLine));
  return `${lines.join('\n')}\n`;
}
