/**
 * The Docker install's `apt-get update` on a fresh VM whose apt is busy (unattended-upgrades at first boot):
 * the script's own function, run by a real `sh`, against an `apt-get` that answers as apt 2.6 does while
 * another process holds its lists lock. `sleep` is shadowed too, so that waiting costs the test nothing.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APT_UPDATE } from '../../src/setup/steps/docker.js';

const LOCKED =
  'E: Could not get lock /var/lib/apt/lists/lock. It is held by process 2611 (apt-get)\nE: Unable to lock directory /var/lib/apt/lists/';

/**
 * Runs `apt_update` with an apt-get that fails `failures` times with `error`, then succeeds, printing
 * `warnings` as apt 2.6 does for a source it could not fetch (still exit 0).
 */
function aptUpdate(failures: number, error = LOCKED, warnings = '') {
  const bin = mkdtempSync(join(tmpdir(), 'gsb-apt-'));
  const log = join(bin, 'log');
  writeFileSync(log, '');
  const script = (body: string) => `#!/bin/sh\n${body}\n`;
  writeFileSync(
    join(bin, 'apt-get'),
    script(`echo "apt-get $*" >>${log}
n=$(grep -c '^apt-get' ${log})
if [ "$n" -le ${failures} ]; then printf '%s\\n' '${error}' >&2; exit 100; fi
printf '%s' '${warnings}' >&2
exit 0`),
  );
  writeFileSync(join(bin, 'sleep'), script(`echo "sleep $*" >>${log}`));
  for (const tool of ['apt-get', 'sleep']) chmodSync(join(bin, tool), 0o755);
  const result = spawnSync('sh', ['-c', `set -e\n${APT_UPDATE}\napt_update\necho updated`], {
    env: { PATH: `${bin}:${process.env.PATH}`, LC_ALL: 'C' },
    encoding: 'utf8',
  });
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    updates: lines.filter((l) => l.startsWith('apt-get')).length,
    sleeps: lines.filter((l) => l === 'sleep 5').length,
  };
}

describe("the Docker install's apt-get update", () => {
  it('waits while another apt holds the lock, then goes on', () => {
    const run = aptUpdate(3);
    expect(run).toMatchObject({ code: 0, updates: 4, sleeps: 3, stderr: '' });
    expect(run.stdout).toContain('updated');
  });

  it('fails at once, with apt’s message, on anything but the lock', () => {
    const error =
      'E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving';
    const run = aptUpdate(1, error);
    expect(run).toMatchObject({ code: 1, updates: 1, sleeps: 0 });
    expect(run.stderr).toContain('Temporary failure resolving');
    expect(run.stdout).not.toContain('updated');
  });

  it('goes on past a source apt could not fetch, saying which on stderr', () => {
    const warnings =
      'W: Failed to fetch https://download.docker.com/linux/debian/dists/bookworm/InRelease  Could not connect to download.docker.com:443, connection timed out\nW: Some index files failed to download. They have been ignored, or old ones used instead.\n';
    const run = aptUpdate(0, LOCKED, warnings);
    expect(run).toMatchObject({ code: 0, updates: 1 });
    expect(run.stdout).toContain('updated');
    expect(run.stderr).toBe(warnings);
  });

  it('gives up after ten minutes of a lock that is never let go, saying who holds it', () => {
    const run = aptUpdate(10_000);
    expect(run).toMatchObject({ code: 1, updates: 120 });
    expect(run.sleeps).toBe(120);
    expect(run.stderr).toContain('held by process 2611 (apt-get)');
    expect(run.stdout).not.toContain('updated');
  });
});
