import { describe, expect, it } from 'vitest';
import { preparePool } from '../../src/setup/pool-file.js';

const GOOD = `version: "1"
instances:
  - name: linux-amd64
    default: true
    type: google
    pool: 1
    limit: 10
    platform:
      os: linux
      arch: amd64
    spec:
      account:
        project_id: my-project
        json_path: /home/me/terraform/sa.json
      image: projects/ubuntu-os-cloud/global/images/ubuntu-2204
      machine_type: e2-standard-4
      zone:
        - us-central1-a
`;

function problem(text: string, hasSaKey = false): string {
  try {
    preparePool(text, { hasSaKey });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the pool file to be refused');
}

describe('pool file validation', () => {
  it('points json_path at the key inside the container when a service-account key is given', () => {
    const pool = preparePool(GOOD, { hasSaKey: true });
    expect(pool.rewroteKeyPath).toBe(true);
    expect(pool.content).toContain('json_path: /runner/sa-key.json');
    expect(pool.content).not.toContain('/home/me/terraform');
    expect(pool.pools).toEqual(['linux-amd64']);
  });

  it('refuses a json_path that will not exist in the runner container and says how to fix it', () => {
    const message = problem(GOOD);
    expect(message).toContain('/home/me/terraform/sa.json');
    expect(message).toContain('RUNNER_SA_KEY_SECRET');
  });

  it('keeps a pool file without json_path byte for byte (Application Default Credentials)', () => {
    const text = GOOD.replace('        json_path: /home/me/terraform/sa.json\n', '');
    expect(preparePool(text, { hasSaKey: false }).content).toBe(text);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(problem('version: "1"\ninstances:\n  - name: a\n    type: [google\n')).toMatch(
      /line \d+, column \d+/,
    );
  });

  it('names a missing version and missing instances', () => {
    expect(problem('instances:\n  - name: a\n    type: google\n')).toContain('`version` is missing');
    expect(problem('version: "1"\n')).toContain('`instances` is missing');
  });

  it('names an instance without name or type, and a type other than google', () => {
    const message = problem(
      'version: "1"\ninstances:\n  - type: google\n  - name: b\n  - name: c\n    type: amazon\n',
    );
    expect(message).toContain('instances[0] has no `name`');
    expect(message).toContain('instances[1] (b) has no `type`');
    expect(message).toContain('type `amazon`');
  });

  it('refuses a file that is not a mapping', () => {
    expect(problem('- just\n- a list\n')).toContain('YAML mapping');
  });
});
