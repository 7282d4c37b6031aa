import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeRunnerErrors,
  parseRunnerErrors,
  runnerErrorsScript,
} from '../../src/setup/runner-errors.js';

const QUOTA =
  'time="2026-12-05T10:00:00Z" level=error msg="google: failed to provision VM" error="googleapi: Error 403: Quota \'CPUS\' exceeded.  Limit: 24.0 in region us-central1., quotaExceeded" cloud=google pool=linux-amd64';

/** The script in a real sh, `docker logs` printing `log`: info lines on stdout, the rest on stderr, as the runner. */
function errorsIn(log: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gsb-runner-log-')), 'log');
  writeFileSync(file, `${log}\n`);
  const docker = `docker() { sed -n '/level=info/p' ${file}; sed '/level=info/d' ${file} >&2; }`;
  return execFileSync('sh', ['-c', `${docker}\n${runnerErrorsScript('vm-runner')}`], { encoding: 'utf8' });
}

describe("the runner's errors of the last hour", () => {
  it('counts the error lines of both streams, text and JSON, and keeps the last, readable', () => {
    const log = [
      'time="2026-12-05T09:10:00Z" level=info msg="starting the server" addr=":3000"',
      'time="2026-12-05T09:20:00Z" level=error msg="build pool: failed to create instance" error="unable to create instance"',
      '{"level":"error","msg":"could not setup VM","error":"provision: failed to create instance: no zone"}',
      'time="2026-12-05T09:40:00Z" level=info msg="pool created"',
      QUOTA,
    ].join('\n');
    const found = parseRunnerErrors(errorsIn(log));
    expect(found).toEqual({
      count: 3,
      last: "google: failed to provision VM: googleapi: Error 403: Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1., quotaExceeded",
      fix: expect.stringContaining('quota of the project is used up'),
    });
    expect(describeRunnerErrors(found as never)).toMatch(
      /^logged 3 errors in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: /,
    );
  });

  it('finds nothing in a runner that logged no error', () => {
    expect(errorsIn('time="2026-12-05T09:10:00Z" level=info msg="pool created"')).toBe('');
    expect(parseRunnerErrors('')).toBeUndefined();
  });

  it('names the known causes with what to do, and reads a JSON line', () => {
    const fixOf = (line: string) => parseRunnerErrors(`1\n${line}\n`)?.fix;
    expect(
      fixOf(
        'time="x" level=error msg="google: failed to provision VM" error="Post \\"https://compute.googleapis.com/…\\": oauth2: \\"invalid_grant\\" \\"Invalid JWT Signature.\\""',
      ),
    ).toContain('RUNNER_SA_KEY_SECRET');
    expect(
      fixOf(
        '{"level":"error","msg":"google: failed to provision VM","error":"googleapi: Error 403: Required \'compute.instances.create\' permission for \'projects/p/zones/z/instances/i\', forbidden"}',
      ),
    ).toContain('grant it in IAM');
    expect(fixOf('time="x" level=error msg="op failed" error="ZONE_RESOURCE_POOL_EXHAUSTED"')).toContain(
      'spec.zone',
    );
    expect(fixOf('time="x" level=error msg="purger: Failed to purge stale instances"')).toBeUndefined();
    expect(parseRunnerErrors('1\n{"level":"error","msg":"could not setup VM"}\n')?.last).toBe(
      'could not setup VM',
    );
  });
});
