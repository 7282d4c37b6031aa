/** `docker ps` / `docker container ls`, with the filters and placeholders the CLI has. */
import { settle } from './containers.mjs';
import { CliError } from './errors.mjs';
import { parseFlags } from './flags.mjs';
import { normalize } from './images.mjs';
import { withState } from './state.mjs';
import { render } from './template.mjs';
import { psRow } from './views.mjs';

function matches(c, filter) {
  const eq = filter.indexOf('=');
  const [key, value] = eq < 0 ? [filter, ''] : [filter.slice(0, eq), filter.slice(eq + 1)];
  switch (key) {
    case 'name':
      return new RegExp(value).test(c.name);
    case 'id':
      return c.id.startsWith(value);
    case 'status':
      return c.status === value;
    case 'label': {
      const [k, v] = value.split('=');
      return Object.hasOwn(c.labels, k) && (v === undefined || c.labels[k] === v);
    }
    case 'ancestor':
      return normalize(c.image) === normalize(value) || c.imageId.includes(value);
    case 'network':
      return Object.keys(c.networks).includes(value);
    default:
      throw new CliError(`Error response from daemon: invalid filter '${key}'`);
  }
}

export function ps(env, args, answer) {
  const { flags } = parseFlags(
    args,
    {
      '--all': 'bool',
      '--quiet': 'bool',
      '--no-trunc': 'bool',
      '--filter': 'list',
      '--format': 'value',
      '--last': 'value',
      '--latest': 'bool',
      '--size': 'bool',
    },
    { '-a': '--all', '-q': '--quiet', '-f': '--filter', '-n': '--last', '-l': '--latest', '-s': '--size' },
    'ps',
  );
  withState(env, (state) => {
    settle(env, state);
    const all = Object.values(state.containers).sort((a, b) => (a.created < b.created ? 1 : -1));
    const chosen = all.filter(
      (c) =>
        (flags['--all'] ||
          c.status === 'running' ||
          (flags['--filter'] ?? []).some((f) => f.startsWith('status='))) &&
        (flags['--filter'] ?? []).every((f) => matches(c, f)),
    );
    const rows = chosen.map((c) => psRow(c, flags['--no-trunc']));
    const format = flags['--format'];
    if (flags['--quiet']) answer.lines(rows.map((r) => r.ID));
    else if (format && format !== 'table')
      answer.lines(rows.map((r) => render(format.replace(/^table /, ''), r)));
    else
      answer.lines(
        rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names].join('   ')),
        'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES',
      );
  });
}
