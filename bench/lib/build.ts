/**
 * The product as it ships: compiled by tsc with the build configuration, once per bench run, into
 * node_modules/.cache (the binary's `dist/` belongs to `npm ci`; from there the product's imports still
 * resolve to this checkout's node_modules, and no linter or type check looks at it).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR } from './child.js';

export const BUILD_DIR = join(BENCH_DIR, '..', 'node_modules', '.cache', 'gitspaces-bench-build');
let built = false;

export function buildProduct(): string {
  if (!built) {
    execFileSync(
      process.execPath,
      [
        join(BENCH_DIR, '..', 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        BUILD_DIR,
      ],
      { cwd: join(BENCH_DIR, '..'), stdio: 'inherit' },
    );
    built = true;
  }
  return BUILD_DIR;
}
