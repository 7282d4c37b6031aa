import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The team's Docker CLI stand-in lives in `shared/testkit` beside the checkout. GITSPACES_TESTKIT points
 * elsewhere; otherwise each parent folder of the repository is tried, so any clone next to `shared/` works.
 */
function findTestkit(): string {
  const explicit = process.env.GITSPACES_TESTKIT;
  if (explicit) return explicit;
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  for (;;) {
    const candidate = join(dir, '..', 'shared', 'testkit');
    if (existsSync(join(candidate, 'docker'))) return resolve(candidate);
    const parent = dirname(dir);
    if (parent === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/testkit');
    dir = parent;
  }
}

export const TESTKIT = findTestkit();
