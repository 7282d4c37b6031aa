import { parse } from 'yaml';

/** Each instance of a pool file by name, as comparable text; empty when the file does not parse. */
function instancesOf(text: string): Map<string, string> {
  let root: unknown;
  try {
    root = parse(text);
  } catch {
    return new Map();
  }
  const list = (root as { instances?: unknown } | null)?.instances;
  if (!Array.isArray(list)) return new Map();
  const found = new Map<string, string>();
  for (const item of list) {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === 'string') found.set(name, JSON.stringify(item));
  }
  return found;
}

/**
 * The instances added, removed or changed between two pool files, by name only: a pool file holds
 * credentials and machine details that have no place in a chat message.
 */
export function poolDiff(before: string, after: string): string {
  const old = instancesOf(before);
  const wanted = instancesOf(after);
  const added = [...wanted.keys()].filter((name) => !old.has(name));
  const removed = [...old.keys()].filter((name) => !wanted.has(name));
  const changed = [...wanted.keys()].filter((name) => old.has(name) && old.get(name) !== wanted.get(name));
  const parts = [
    added.length > 0 ? `added ${added.join(', ')}` : '',
    removed.length > 0 ? `removed ${removed.join(', ')}` : '',
    changed.length > 0 ? `changed ${changed.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `pool file: instances ${parts.join('; ')}` : 'pool file: changed';
}
