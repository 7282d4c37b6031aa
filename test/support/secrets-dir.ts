import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_TOKEN = 'dGVzdC1kZWxlZ2F0ZS10b2tlbi1zM2NyM3QtdmFsdWU9PQ==';

export const TEST_POOL = `version: "1"
instances:
  - name: linux-amd64
    default: true
    type: google
    pool: 1
    limit: 4
    platform:
      os: linux
      arch: amd64
    spec:
      account:
        project_id: acme-gitspaces
      image: projects/ubuntu-os-cloud/global/images/ubuntu-2204-jammy-v20240607
      machine_type: e2-standard-4
      zone:
        - us-central1-a
`;

/** Secret files for `file:` references: pool.yaml, the delegate token (with a trailing newline), the SSH key. */
export function writeSecrets(privateKey: Buffer, extra: { pool?: string; token?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gsb-secrets-'));
  const files = { pool: join(dir, 'pool.yaml'), token: join(dir, 'token'), sshKey: join(dir, 'id') };
  writeFileSync(files.pool, extra.pool ?? TEST_POOL);
  writeFileSync(files.token, `${extra.token ?? TEST_TOKEN}\n`, { mode: 0o600 });
  writeFileSync(files.sshKey, privateKey, { mode: 0o600 });
  return {
    dir,
    files,
    refs: {
      pool: `file:${files.pool}`,
      delegateToken: `file:${files.token}`,
      sshKey: `file:${files.sshKey}`,
      runnerSaKey: undefined as string | undefined,
    },
    setPool(text: string) {
      writeFileSync(files.pool, text);
    },
  };
}
