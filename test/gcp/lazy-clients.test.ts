import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519HostKey, type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';

const HERE = dirname(fileURLToPath(import.meta.url));
let google: FakeGoogle;

beforeAll(async () => {
  google = await startFakeGoogle();
  google
    .addVm('acme-prod/us-central1-a/runner-1', { internalIp: '10.128.0.7', hostKeys: [ed25519HostKey()] })
    .addSecret('acme-prod', 'pool', 'version: "1"\n');
});
afterAll(() => google.close());

function runChild(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(HERE, '../support/google-modules-child.ts')],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Record<string, unknown>)
        : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

const googlePackages = (list: unknown) =>
  (list as string[]).filter((p) =>
    /^@google-cloud\/|^google-gax$|^google-auth-library$|^protobufjs$/.test(p),
  );

describe('Google clients', () => {
  it('are not loaded with the worker’s code, only when a call needs them, and then do the calls', async () => {
    const result = await runChild({
      GCP_PROJECT: 'acme-prod',
      GCP_ZONE: 'us-central1-a',
      COMPUTE_API_URL: google.url,
      SECRET_MANAGER_API_URL: google.url,
    });
    expect(result).toMatchObject({ secret: 'version: "1"\n', address: '10.128.0.7', hostKeys: 1 });
    // The probe itself works: the worker's CommonJS dependencies are seen.
    expect(result.before).toContain('bullmq');
    expect(googlePackages(result.before)).toEqual([]);
    expect(googlePackages(result.warmed)).toEqual([]);
    expect(googlePackages(result.after)).toEqual(
      expect.arrayContaining(['@google-cloud/compute', '@google-cloud/secret-manager', 'google-gax']),
    );
    // Only the two Compute clients used, not every client of three API versions nor the static protos module.
    expect(result.compute).toEqual(
      expect.arrayContaining(['build/src/v1/instances_client.js', 'build/src/v1/projects_client.js']),
    );
    expect(
      (result.compute as string[]).filter((f) => /index\.js$|protos\.js$|v1beta|v1small/.test(f)),
    ).toEqual([]);
    // Both over REST (gax's "fallback" mode), not gRPC.
    expect(google.requests.map((r) => r.apiClient?.split(' ')[0])).toEqual([
      expect.stringMatching(/^gax\/.*-fallback$/),
      expect.stringMatching(/^gax\/.*-fallback$/),
      expect.stringMatching(/^gax\/.*-fallback$/),
    ]);
  }, 150_000);

  it('are loaded and built when a worker starts, before its first job, without calling Google', async () => {
    const env = {
      GCP_PROJECT: 'acme-prod',
      GCP_ZONE: 'us-central1-a',
      COMPUTE_API_URL: google.url,
      SECRET_MANAGER_API_URL: google.url,
      WARM: '1',
    };
    const requests = google.requests.length;
    const fromSecretManager = await runChild({ ...env, POOL_SECRET: 'pool' });
    expect(googlePackages(fromSecretManager.before)).toEqual([]);
    expect(googlePackages(fromSecretManager.warmed)).toEqual(
      expect.arrayContaining(['@google-cloud/compute', '@google-cloud/secret-manager', 'google-gax']),
    );
    // The warm-up itself asks Google nothing: the three calls of the run are all the requests.
    expect(fromSecretManager).toMatchObject({ address: '10.128.0.7', hostKeys: 1 });
    expect(google.requests.length - requests).toBe(3);
    // Secrets kept in files or the environment: Secret Manager's client is not loaded for them.
    const fromEnv = await runChild({ ...env, POOL_SECRET: 'env:POOL_YAML', POOL_YAML: 'version: "1"' });
    expect(googlePackages(fromEnv.warmed)).toContain('@google-cloud/compute');
    expect(googlePackages(fromEnv.warmed)).not.toContain('@google-cloud/secret-manager');
  }, 150_000);
});
