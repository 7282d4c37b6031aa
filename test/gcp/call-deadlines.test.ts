/**
 * The production policy itself (20 s deadline, retries after 1, 2, 4 and 8 s within 30 s), through the
 * generated clients: a Compute API that never answers and a quota that never clears each end the run in
 * bounded time. About 20 s, the cases running side by side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_CALL_POLICY } from '../../src/gcp/call-policy.js';
import { closeGoogleClients, computeClient, secretManagerClient } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import { createSecretManagerSource } from '../../src/gcp/secrets.js';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { timedFailure } from '../support/google-failures.js';

let google: FakeGoogle;

beforeAll(async () => {
  google = await startFakeGoogle();
  google
    .hang('/instances/silent')
    .fail('/instances/down', { status: 503, message: 'The service is currently unavailable.' })
    .fail('/secrets/throttled/', {
      status: 429,
      message: "Quota exceeded for quota metric 'Access requests'",
    });
  const config = loadConfig(
    { COMPUTE_API_URL: google.url, SECRET_MANAGER_API_URL: google.url },
    { dotEnv: false },
  );
  await Promise.all([computeClient(config), secretManagerClient(config)]);
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

describe('the production call policy', () => {
  it('ends a never-answering call at 20 s and a lasting quota or outage within 30 s', async () => {
    expect(DEFAULT_CALL_POLICY).toEqual({
      deadlineMs: 20_000,
      retryDelaysMs: [1_000, 2_000, 4_000, 8_000],
      budgetMs: 30_000,
    });
    const config = loadConfig(
      {
        GCP_PROJECT: 'acme-prod',
        GCP_ZONE: 'us-central1-a',
        COMPUTE_API_URL: google.url,
        SECRET_MANAGER_API_URL: google.url,
      },
      { dotEnv: false },
    );
    const vm = (name: string) => () =>
      createComputeLocator(config).locate(
        { project: undefined, zone: undefined, name },
        { address: 'internal', hostKeys: false },
      );
    const [silent, down, throttled] = await Promise.all([
      timedFailure(vm('silent')),
      timedFailure(vm('down')),
      timedFailure(() => createSecretManagerSource(config).read('throttled')),
    ]);
    expect(silent.error.message).toContain('The Compute API did not answer within 20 s');
    expect(silent.ms).toBeGreaterThanOrEqual(19_900);
    expect(silent.ms).toBeLessThan(21_500);
    expect(down.error.code).toBe('GCP_UNAVAILABLE');
    expect(down.error.message).toMatch(/asked [45] times over \d+ s/);
    expect(throttled.error.code).toBe('SECRET_UNREADABLE');
    expect(throttled.error.message).toContain('quota of project acme-prod was reached');
    expect(throttled.error.message).toMatch(/asked [45] times over \d+ s/);
    for (const { ms } of [down, throttled]) {
      expect(ms).toBeGreaterThanOrEqual(15_000);
      expect(ms).toBeLessThan(DEFAULT_CALL_POLICY.budgetMs);
    }
    console.info(
      `fail times: no answer ${Math.round(silent.ms)} ms, 503 ${Math.round(down.ms)} ms, 429 ${Math.round(throttled.ms)} ms`,
    );
  }, 60_000);
});
