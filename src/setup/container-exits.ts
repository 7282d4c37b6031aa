/**
 * Why a container exited lately, from Docker's own events: each exit's code, and whether the kernel killed it
 * for lack of memory (an `oom` event). Once the restart policy starts it again, Docker clears both from the
 * container's state, and a JVM killed outright logs nothing of it. The daemon keeps its last events in memory
 * (not across its own restart): the last day is asked.
 * https://docs.docker.com/reference/cli/docker/system/events/
 */
import { command } from './shell.js';

export interface Exits {
  /** Exits (`die`) in the last day. */
  count: number;
  /** Of which the kernel's out-of-memory killer was the cause (an `oom` before it). */
  outOfMemory: number;
  /** The last one's exit code. */
  lastCode: number | undefined;
}

const FORMAT = '{{.Actor.ID}} {{.Action}} {{index .Actor.Attributes "exitCode"}}';

/**
 * One line per event of these containers in the last day: `<id> die <code>` or `<id> oom`. By id: a name
 * also matches the events of the containers it named before (one replaced, or removed and created again).
 */
export function exitsScript(ids: string[]): string {
  const filters = ids.flatMap((id) => ['--filter', `container=${id}`]);
  const events = command(
    'docker',
    'events',
    '--since',
    '24h',
    ...filters,
    ...['--filter', 'event=die', '--filter', 'event=oom', '--format', FORMAT],
  );
  // Without --until, `docker events` waits for new events for ever, and until a time still to come. To the
  // nanosecond: whole seconds would leave out an exit in the current second. A date without %N prints it.
  return `u=$(date +%s.%N); case "$u" in *N) u=$(date +%s) ;; esac\n${events} --until "$u"`;
}

/**
 * An exit counts as out of memory when an `oom` event came since the container's previous exit: the kernel may
 * report one kill more than once, and an `oom` with no exit after it killed a process other than the main one.
 */
export function parseExits(stdout: string): Record<string, Exits> {
  const found: Record<string, Exits> = {};
  const oomPending = new Set<string>();
  for (const line of stdout.split('\n')) {
    const [id, action, code] = line.trim().split(' ');
    if (id === undefined || id === '') continue;
    if (action === 'oom') oomPending.add(id);
    if (action !== 'die') continue;
    const exits = found[id] ?? { count: 0, outOfMemory: 0, lastCode: undefined };
    const value = Number(code);
    found[id] = {
      count: exits.count + 1,
      outOfMemory: exits.outOfMemory + (oomPending.delete(id) ? 1 : 0),
      lastCode: code !== undefined && code !== '' && Number.isInteger(value) ? value : undefined,
    };
  }
  return found;
}

const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/** "exited 3 times in the last 24 h, killed for lack of memory twice; last exit code 137". */
export function describeExits(e: Exits): string {
  const memory = e.outOfMemory > 0 ? `, killed for lack of memory ${times(e.outOfMemory)}` : '';
  const last = e.lastCode === undefined ? '' : `; last exit code ${e.lastCode}`;
  return `exited ${times(e.count)} in the last 24 h${memory}${last}`;
}
