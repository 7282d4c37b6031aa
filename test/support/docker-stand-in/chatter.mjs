/**
 * Log lines a container prints at start besides its service's own, for tests that read logs back:
 * FAKE_DOCKER_CHATTY=name:N,… prints N numbered lines (odd ones on stderr, as a service that logs on both);
 * FAKE_DOCKER_LEAKY=name,… prints what a careless service would: its environment and, for the runner, its
 * pool file, secrets included.
 */

/** `name:N` entries of a knob, by container name (or image reference). */
function counts(list) {
  const out = new Map();
  for (const entry of (list ?? '').split(',')) {
    const at = entry.lastIndexOf(':');
    if (at > 0) out.set(entry.slice(0, at), Number(entry.slice(at + 1)));
  }
  return out;
}

const named = (list, c) => (list ?? '').split(',').some((entry) => entry === c.name || entry === c.image);

/** `readInside(path)`: a file's text as the container sees it, undefined when missing. */
export function startChatter(env, c, readInside) {
  const lines = [];
  const chatty = counts(env.FAKE_DOCKER_CHATTY).get(c.name) ?? counts(env.FAKE_DOCKER_CHATTY).get(c.image);
  for (let i = 1; i <= (chatty ?? 0); i++)
    lines.push({
      stream: i % 2 === 1 ? 'stderr' : 'stdout',
      line: `${c.name} chatter line ${i} of ${chatty}`,
    });
  if (!named(env.FAKE_DOCKER_LEAKY, c)) return lines;
  for (const variable of c.env) lines.push({ stream: 'stdout', line: `env ${variable}` });
  const args = c.cmd ?? [];
  const pool = args.includes('--pool') ? readInside(args[args.indexOf('--pool') + 1]) : undefined;
  for (const line of (pool ?? '').split('\n').filter(Boolean))
    lines.push({ stream: 'stderr', line: `pool file: ${line}` });
  return lines;
}
