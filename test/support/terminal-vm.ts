/**
 * What a CLI test of a VM found by name needs: the test VM (a real sshd with the Docker stand-in), the fake
 * Google APIs, the runner's port on this machine, a scratch folder and the secret files, and the
 * environment a person would set for `gitspaces-bot setup <vm>` against them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeGoogle, startFakeGoogle } from './fake-google.js';
import { holdRunnerPort } from './runner-port.js';
import { writeSecrets } from './secrets-dir.js';
import { startSshd, type TestSshd } from './sshd.js';

export const PROJECT = 'gitspaces-prod';
export const ZONE = 'us-central1-a';

export interface TerminalVm {
  sshd: TestSshd;
  google: FakeGoogle;
  /** A scratch folder, removed by `stop`. */
  dir: string;
  secrets: ReturnType<typeof writeSecrets>;
  /** The environment of a terminal run, with `extra` on top. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startTerminalVm(): Promise<TerminalVm> {
  const [sshd, google] = await Promise.all([startSshd(), startFakeGoogle()]);
  const port3000 = await holdRunnerPort();
  const dir = mkdtempSync(join(tmpdir(), 'gsb-terminal-'));
  const secrets = writeSecrets(sshd.privateKey);
  const base: NodeJS.ProcessEnv = {
    GCP_PROJECT: PROJECT,
    GCP_ZONE: ZONE,
    COMPUTE_API_URL: google.url,
    POOL_SECRET: secrets.refs.pool,
    DELEGATE_TOKEN_SECRET: secrets.refs.delegateToken,
    SSH_KEY_SECRET: secrets.refs.sshKey,
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    RUNNER_DIR: join(dir, 'runner'),
    RUNNER_HEALTH_TIMEOUT: '60s',
    DELEGATE_HEALTH_TIMEOUT: '60s',
    HOME: join(dir, 'home'),
    PATH: process.env.PATH,
  };
  return {
    sshd,
    google,
    dir,
    secrets,
    env: (extra = {}) => ({ ...base, ...extra }),
    async stop() {
      await port3000.release();
      await Promise.all([sshd.stop(), google.close()]);
      rmSync(dir, { recursive: true, force: true });
      rmSync(secrets.dir, { recursive: true, force: true });
    },
  };
}
