/**
 * `docker events` over a past window: the `die` events (with `exitCode`) of the stand-in's containers, kept
 * like the daemon's last 256 events. Values of one `--filter` key are ORed, keys ANDed, as Docker does.
 * Without --until the real command waits for new events for ever: the stand-in refuses that instead of
 * hanging a test.
 */
import { CliError } from './errors.mjs';
import { parseFlags } from './flags.mjs';
import { withState } from './state.mjs';
import { GoMap, render } from './template.mjs';

const KEPT = 256;

export function recordEvent(state, c, action, attributes = {}) {
  state.events ??= [];
  state.events.push({ time: Date.now(), id: c.id, name: c.name, image: c.image, action, attributes });
  if (state.events.length > KEPT) state.events.splice(0, state.events.length - KEPT);
}

const UNITS = { s: 1000, m: 60_000, h: 3_600_000 };

/** Unix seconds, a duration back from now (`24h`, `10m`), or an RFC 3339 time, as milliseconds. */
function instant(text, now) {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ago = /^(\d+)([smh])$/.exec(text);
  if (ago) return now - Number(ago[1]) * UNITS[ago[2]];
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new CliError(`invalid value for "since": ${text}`);
  return at;
}

export function events(env, args, answer) {
  const { flags } = parseFlags(
    args,
    { '--since': 'value', '--until': 'value', '--filter': 'list', '--format': 'value' },
    { '-f': '--filter' },
    'events',
  );
  if (flags['--until'] === undefined)
    throw new CliError(
      'docker events stand-in: without --until the real command waits for new events for ever',
    );
  const now = Date.now();
  const since = flags['--since'] === undefined ? 0 : instant(flags['--since'], now);
  const until = instant(flags['--until'], now);
  const filters = {};
  for (const f of flags['--filter'] ?? []) {
    const [key, value] = [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)];
    filters[key] = [...(filters[key] ?? []), value];
  }
  const matches = (e) =>
    e.time >= since &&
    e.time <= until + 999 &&
    (!filters.container || filters.container.some((v) => v === e.name || e.id.startsWith(v))) &&
    (!filters.event || filters.event.includes(e.action));
  const list = withState(env, (state) => (state.events ?? []).filter(matches));
  for (const e of list) {
    const view = {
      Type: 'container',
      Action: e.action,
      // A map[string]string, as Docker's: a missing key reads "".
      Actor: { ID: e.id, Attributes: new GoMap({ image: e.image, name: e.name, ...e.attributes }, '') },
      time: Math.floor(e.time / 1000),
      timeNano: e.time * 1_000_000,
    };
    const line = flags['--format']
      ? render(flags['--format'], view)
      : `${new Date(e.time).toISOString()} container ${e.action} ${e.id} (name=${e.name})`;
    answer.out(line);
  }
}
