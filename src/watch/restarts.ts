/**
 * A container that exited by itself between two probes and was started again by its restart policy runs at
 * the next probe, maybe healthy: only Docker's RestartCount tells (its exit code and out-of-memory flag are
 * cleared by the new start). Each crash cut short whatever the delegate or the runner was doing, so the
 * channel hears of it, at most once a day per VM; meanwhile the counts add up for the next notice. Pure.
 */
import { describeExits } from '../setup/container-exits.js';
import type { VmStatus } from '../setup/probe.js';

export interface RestartsSeen {
  /** Docker's RestartCount per container (by id) when last told, or first seen. */
  counts: Record<string, number>;
  /** Since when those counts hold. */
  since: number;
  /** When the channel was last told. */
  toldAt?: number;
}

const span = (ms: number) => {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
};

/**
 * What to tell of restarts at this probe (nothing, or one line per container, with the command that shows
 * what it printed before it exited), and what to remember.
 */
export function restartsAt(
  status: VmStatus,
  seen: RestartsSeen | undefined,
  now: number,
  repeatMs: number,
  vm: string,
): { seen: RestartsSeen; lines: string[] } {
  const containers = (
    [
      ['runner', status.runner],
      ['delegate', status.delegate],
    ] as const
  ).flatMap(([role, c]) =>
    // Keyed by Docker's id: a container created again under the name counts its restarts afresh.
    c.state ? [{ role, name: c.name, key: c.state.id ?? c.name, state: c.state, exits: c.exits }] : [],
  );
  const current = Object.fromEntries(containers.map((c) => [c.key, c.state.restarts ?? 0]));
  if (seen === undefined) return { seen: { counts: current, since: now }, lines: [] };
  // What was told of each container there now; one started by hand since counts from 0 again.
  const base = Object.fromEntries(
    containers.map((c) => [c.key, Math.min(seen.counts[c.key] ?? 0, current[c.key] ?? 0)]),
  );
  const more = (c: (typeof containers)[number]) => (current[c.key] ?? 0) > (base[c.key] ?? 0);
  // Told only of a container running again; one still down is the health notice's, and waits here.
  const grew = containers.filter((c) => c.state.status === 'running' && more(c));
  if (grew.length === 0 || (seen.toldAt !== undefined && now - seen.toldAt < repeatMs)) {
    const since = containers.some(more) ? seen.since : now;
    return { seen: { ...seen, counts: base, since }, lines: [] };
  }
  const lines = grew.flatMap((c) => {
    const n = (current[c.key] ?? 0) - (base[c.key] ?? 0);
    return [
      `${c.role} ${c.name} exited by itself and Docker started it again, ${n === 1 ? 'once' : `${n} times`} in the last ${span(now - seen.since)}; it runs now${c.exits ? ` (${describeExits(c.exits)})` : ''}`,
      `what it printed before it exited: \`/gitspaces logs ${vm} ${c.role} 300\``,
    ];
  });
  return { seen: { counts: current, since: now, toldAt: now }, lines };
}
