/**
 * Every failure of the Compute API the locator maps (src/gcp/compute-errors.ts), through Google's generated
 * client against the local stand-in: the code and message the run gets, how often Google was asked, and
 * how long the run took to fail under a scaled-down policy (production's is in gcp-call-deadlines.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { closeGoogleClients, computeClient } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import { type FakeGoogle, type ForcedError, startFakeGoogle } from '../support/fake-google.js';
import { refusingUrl, timedFailure } from '../support/google-failures.js';

const P = 'acme-prod';
const Z = 'us-central1-a';
/** 4 attempts at most (3 retries, after 1.2 s of backoff in all), 5 s each, none ending past 8 s: room for a busy machine. */
const FAST = { deadlineMs: 5_000, retryDelaysMs: [200, 400, 600], budgetMs: 8_000 };
/** For the endpoints that never answer: the deadline is the test's wait. */
const SHORT_DEADLINE = { ...FAST, deadlineMs: 1_000 };
const NO_KEYS = { address: 'internal' as const, hostKeys: false };
let google: FakeGoogle;

function locate(name: string, url = google.url, policy: typeof FAST = FAST) {
  const config = loadConfig({ GCP_PROJECT: P, GCP_ZONE: Z, COMPUTE_API_URL: url }, { dotEnv: false });
  return createComputeLocator(config, { callPolicy: policy }).locate(
    { project: undefined, zone: undefined, name },
    NO_KEYS,
  );
}

const asked = (name: string) =>
  google.requests.filter((r) => r.path === `/compute/v1/projects/${P}/zones/${Z}/instances/${name}`).length;

beforeAll(async () => {
  google = await startFakeGoogle();
  // Loading Google's Compute package takes seconds: not part of any call's time.
  const config = loadConfig({ COMPUTE_API_URL: google.url }, { dotEnv: false });
  await Promise.all([
    computeClient(config, FAST.deadlineMs),
    computeClient(config, SHORT_DEADLINE.deadlineMs),
  ]);
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

interface Case {
  vm: string;
  fail?: ForcedError;
  code: string;
  says: string[];
  retryable: boolean;
  requests: number;
}

const quota = "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'";
const CASES: Case[] = [
  {
    vm: 'ghost',
    code: 'VM_NOT_FOUND',
    says: [`There is no VM named ghost in project ${P}, zone ${Z}.`, 'GCP_ZONE'],
    retryable: false,
    requests: 1,
  },
  {
    vm: 'denied',
    fail: { status: 403, message: `Required 'compute.instances.get' permission for 'projects/${P}'` },
    code: 'GCP_PERMISSION_DENIED',
    says: [`lacks the permission compute.instances.get on project ${P}`, 'Grant its service account'],
    retryable: false,
    requests: 1,
  },
  {
    vm: 'expired',
    fail: { status: 401, message: 'Request had invalid authentication credentials.' },
    code: 'GCP_PERMISSION_DENIED',
    says: ["Google did not accept the bot's credentials", 'Application Default Credentials'],
    retryable: false,
    requests: 1,
  },
  {
    vm: 'throttled',
    fail: { status: 429, message: quota },
    code: 'GCP_QUOTA',
    says: [
      `quota or rate limit of project ${P} was reached`,
      'asked 4 times over',
      'raise the Compute API quota',
    ],
    retryable: true,
    requests: 4,
  },
  {
    vm: 'rate-limited',
    fail: { status: 403, message: quota, reason: 'rateLimitExceeded' },
    code: 'GCP_QUOTA',
    says: ['quota or rate limit', 'asked 4 times over'],
    retryable: true,
    requests: 4,
  },
  {
    vm: 'down',
    fail: { status: 503, message: 'The service is currently unavailable.' },
    code: 'GCP_UNAVAILABLE',
    says: ['The Compute API is unavailable (HTTP 503)', 'asked 4 times over', 'status.cloud.google.com'],
    retryable: true,
    requests: 4,
  },
  {
    vm: 'broken',
    fail: { status: 500, message: 'Internal error.' },
    code: 'GCP_UNAVAILABLE',
    says: ['unavailable (HTTP 500)'],
    retryable: true,
    requests: 4,
  },
  {
    vm: 'bad-request',
    fail: { status: 400, message: "Invalid value for field 'zone': 'us-central1-q'." },
    code: 'GCP_UNAVAILABLE',
    says: [
      "Google refused the request for VM bad-request (project acme-prod, zone us-central1-a): Invalid value for field 'zone'",
      'Check the project and zone names.',
    ],
    retryable: false,
    requests: 1,
  },
  {
    vm: 'precondition',
    fail: { status: 412, message: 'Constraint violated.', reason: 'conditionNotMet' },
    code: 'GCP_UNAVAILABLE',
    says: ['Google refused the request', 'Constraint violated.'],
    retryable: false,
    requests: 1,
  },
  {
    vm: 'conflict',
    fail: { status: 409, message: 'The resource is being modified.' },
    code: 'GCP_UNAVAILABLE',
    says: ['The Compute API failed while reading VM conflict', 'The resource is being modified.'],
    retryable: true,
    requests: 1,
  },
];

describe('Compute API failures through the generated client', () => {
  it.each(CASES)('$vm: $code', async (c) => {
    if (c.fail) google.fail(`/instances/${c.vm}`, c.fail);
    const { error, ms } = await timedFailure(() => locate(c.vm));
    expect(error.code).toBe(c.code);
    for (const text of c.says) expect(error.message).toContain(text);
    expect(error.retryable).toBe(c.retryable);
    expect(asked(c.vm)).toBe(c.requests);
    // Retried: after the 200 + 400 + 600 ms of backoff (not retried: the one request above says it).
    if (c.requests > 1) expect(ms).toBeGreaterThanOrEqual(1_200);
    expect(ms).toBeLessThan(FAST.budgetMs + FAST.deadlineMs);
  });

  it('says an endpoint that takes the connection and never answers did not answer within the deadline, once', async () => {
    google.hang('/instances/silent');
    const { error, ms } = await timedFailure(() => locate('silent', google.url, SHORT_DEADLINE));
    expect(error.code).toBe('GCP_UNAVAILABLE');
    expect(error.message).toContain(
      `The Compute API did not answer within 1 s while reading VM silent (project ${P}, zone ${Z}).`,
    );
    expect(error.message).toContain('COMPUTE_API_URL');
    expect(error.retryable).toBe(true);
    expect(asked('silent')).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(2_500);
  });

  it('says an endpoint that refuses connections could not be reached, after the retries', async () => {
    const { error, ms } = await timedFailure(async () => locate('runner-1', await refusingUrl()));
    expect(error.code).toBe('GCP_UNAVAILABLE');
    expect(error.message).toContain('The Compute API could not be reached');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('asked 4 times');
    expect(error.retryable).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(1_200);
    expect(ms).toBeLessThan(FAST.budgetMs + FAST.deadlineMs);
  });

  it('goes on once a quota answer clears, and waits as long as Retry-After asks', async () => {
    google.addVm(`${P}/${Z}/busy`);
    google.fail('/instances/busy', { status: 429, message: quota, times: 1, retryAfterSeconds: 1 });
    const started = performance.now();
    const vm = await locate('busy', google.url, FAST);
    expect(vm.address).toBe('10.128.0.2');
    expect(asked('busy')).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('does not wait for a Retry-After beyond its budget: the run hears of the quota at once', async () => {
    google.addVm(`${P}/${Z}/later`);
    google.fail('/instances/later', { status: 429, message: quota, times: 1, retryAfterSeconds: 60 });
    const { error, ms } = await timedFailure(() => locate('later'));
    expect(error.code).toBe('GCP_QUOTA');
    expect(asked('later')).toBe(1);
    expect(ms).toBeLessThan((FAST.retryDelaysMs[0] as number) + FAST.deadlineMs);
  });
});
