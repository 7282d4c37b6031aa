/**
 * Every failure of Secret Manager the source maps (src/gcp/secrets.ts), through Google's generated client
 * over REST against the local stand-in: the code and message the run gets, how often Google was asked, and
 * how long the run took to fail under a scaled-down policy (production's is in gcp-call-deadlines.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { closeGoogleClients, secretManagerClient } from '../../src/gcp/clients.js';
import { createSecretManagerSource } from '../../src/gcp/secrets.js';
import { type FakeGoogle, type ForcedError, startFakeGoogle } from '../support/fake-google.js';
import { refusingUrl, timedFailure } from '../support/google-failures.js';

const P = 'acme-prod';
const FAST = { deadlineMs: 5_000, retryDelaysMs: [200, 400, 600], budgetMs: 8_000 };
/** For the endpoints that never answer: the deadline is the test's wait. */
const SHORT_DEADLINE = { ...FAST, deadlineMs: 1_000 };
let google: FakeGoogle;

function read(ref: string, url = google.url, policy = FAST) {
  const config = loadConfig({ GCP_PROJECT: P, SECRET_MANAGER_API_URL: url }, { dotEnv: false });
  return createSecretManagerSource(config, { callPolicy: policy }).read(ref);
}

const asked = (secret: string) =>
  google.requests.filter((r) => r.path.includes(`/secrets/${secret}/`)).length;

beforeAll(async () => {
  google = await startFakeGoogle();
  google
    .addSecret(P, 'rotated', { data: 'gone', state: 'DISABLED' })
    .addSecret(P, 'corrupted', { data: 'hx-token-3f9a', checksum: 'wrong' });
  const config = loadConfig({ SECRET_MANAGER_API_URL: google.url }, { dotEnv: false });
  await Promise.all([
    secretManagerClient(config, FAST.deadlineMs),
    secretManagerClient(config, SHORT_DEADLINE.deadlineMs),
  ]);
});
afterAll(async () => {
  await closeGoogleClients();
  await google.close();
});

interface Case {
  secret: string;
  fail?: ForcedError;
  code: string;
  says: string[];
  retryable: boolean;
  requests: number;
}

const CASES: Case[] = [
  {
    secret: 'nope',
    code: 'SECRET_NOT_FOUND',
    says: [`projects/${P}/secrets/nope/versions/latest`, `gcloud secrets create nope --project ${P}`],
    retryable: false,
    requests: 1,
  },
  {
    secret: 'forbidden',
    fail: { status: 403, message: "Permission 'secretmanager.versions.access' denied for resource" },
    code: 'SECRET_PERMISSION_DENIED',
    says: ['secretmanager.versions.access', 'roles/secretmanager.secretAccessor'],
    retryable: false,
    requests: 1,
  },
  {
    secret: 'expired-login',
    fail: { status: 401, message: 'Request had invalid authentication credentials.' },
    code: 'SECRET_PERMISSION_DENIED',
    says: ["Google did not accept the bot's credentials", 'Application Default Credentials'],
    retryable: false,
    requests: 1,
  },
  {
    secret: 'rotated',
    code: 'SECRET_DISABLED',
    says: [
      'is disabled or destroyed',
      `gcloud secrets versions enable latest --secret rotated --project ${P}`,
    ],
    retryable: false,
    requests: 1,
  },
  {
    secret: 'refused-name',
    fail: { status: 400, message: 'Invalid resource field value in the request.' },
    code: 'SECRET_INVALID_REF',
    says: ['Secret Manager refused the reference', 'Fix the reference.'],
    retryable: false,
    requests: 1,
  },
  {
    secret: 'throttled',
    fail: { status: 429, message: "Quota exceeded for quota metric 'Access requests'" },
    code: 'SECRET_UNREADABLE',
    says: [
      `The Secret Manager quota of project ${P} was reached`,
      'asked 4 times over',
      'raise the Secret Manager quota',
    ],
    retryable: true,
    requests: 4,
  },
  {
    secret: 'flaky',
    fail: { status: 503, message: 'The service is currently unavailable.' },
    code: 'SECRET_UNREADABLE',
    says: ['Secret Manager is unavailable (HTTP 503)', 'asked 4 times over', 'SECRET_MANAGER_API_URL'],
    retryable: true,
    requests: 4,
  },
  {
    secret: 'aborted',
    fail: { status: 409, message: 'The operation was aborted.', googleStatus: 'ABORTED' },
    code: 'SECRET_UNREADABLE',
    says: ['Secret Manager failed while reading aborted', 'The operation was aborted.'],
    retryable: true,
    requests: 1,
  },
  {
    secret: 'corrupted',
    code: 'SECRET_CHECKSUM',
    says: ['arrived corrupted', 'CRC32C'],
    retryable: false,
    requests: 1,
  },
];

describe('Secret Manager failures through the generated client', () => {
  it.each(CASES)('$secret: $code', async (c) => {
    if (c.fail) google.fail(`/secrets/${c.secret}/`, c.fail);
    const { error, ms } = await timedFailure(() => read(c.secret));
    expect(error.code).toBe(c.code);
    for (const text of c.says) expect(error.message).toContain(text);
    expect(error.message).not.toContain('hx-token-3f9a');
    expect(error.retryable).toBe(c.retryable);
    expect(asked(c.secret)).toBe(c.requests);
    if (c.requests > 1) expect(ms).toBeGreaterThanOrEqual(1_200);
    else expect(ms).toBeLessThan(1_200);
    expect(ms).toBeLessThan(FAST.budgetMs + FAST.deadlineMs);
  });

  it('sends exactly what Google’s generated client sends over REST', () => {
    const sent = google.requests.filter((r) => r.path.startsWith('/v1/'));
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) {
      expect(request.query).toEqual({ $alt: 'json;enum-encoding=int' });
      expect(request.apiClient).toMatch(/^gax\/\S+-fallback gapic\/\S+ gl-node\/\S+ rest\//);
    }
  });

  it('says a Secret Manager that takes the connection and never answers did not answer within the deadline', async () => {
    google.hang('/secrets/silent/');
    const { error, ms } = await timedFailure(() => read('silent', google.url, SHORT_DEADLINE));
    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(error.message).toContain(
      `Secret Manager did not answer within 1 s while reading silent (projects/${P}/secrets/silent/versions/latest).`,
    );
    expect(error.retryable).toBe(true);
    expect(asked('silent')).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(2_500);
  });

  it('says a Secret Manager that refuses connections could not be reached', async () => {
    const { error, ms } = await timedFailure(async () => read('pool', await refusingUrl()));
    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(error.message).toContain('Secret Manager could not be reached');
    expect(error.message).toContain('ECONNREFUSED');
    expect(ms).toBeLessThan(FAST.budgetMs + FAST.deadlineMs);
  });
});
