/**
 * Harness's latest supported delegate version for the account: `GET <HARNESS_MANAGER_URL>/ng/api/
 * delegate-setup/latest-supported-version?accountIdentifier=<id>` with the API key in `x-api-key`. The
 * answer is a RestResponse whose `resource` is a SupportedDelegateVersion (`latestSupportedVersion`,
 * `latestSupportedMinimalVersion`: harness-core's io.harness.delegate.beans.SupportedDelegateVersion).
 */
import { GitspacesError } from '../errors.js';
import type { DelegateVersions, SecretSource } from '../setup/ports.js';

export interface DelegateVersionsOptions {
  managerUrl: string;
  accountId: string;
  /** HARNESS_API_KEY_SECRET: read when asked, never kept beyond the request. */
  apiKeyRef: string;
  secrets: SecretSource;
  timeoutMs?: number;
  /** How long one answer serves (a fleet's runs ask once). @defaultValue 10 minutes */
  cacheMs?: number;
  now?: () => number;
  /** The egress proxy's fetch (egress-proxy.ts), when one is set. */
  fetch?: typeof fetch | undefined;
}

interface Answer {
  resource?: { latestSupportedVersion?: unknown };
  data?: { latestSupportedVersion?: unknown };
}

async function ask(o: DelegateVersionsOptions): Promise<string | undefined> {
  const key = (await o.secrets.read(o.apiKeyRef)).toString('utf8').trim();
  const url = new URL(`${o.managerUrl.replace(/\/+$/, '')}/ng/api/delegate-setup/latest-supported-version`);
  url.searchParams.set('accountIdentifier', o.accountId);
  let response: Response;
  try {
    response = await (o.fetch ?? fetch)(url, {
      headers: { 'x-api-key': key, accept: 'application/json' },
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new GitspacesError(
      'HARNESS_API_FAILED',
      `Harness at ${url.origin} did not answer: ${(error as Error).message}.`,
      {
        retryable: true,
      },
    );
  }
  if (response.status === 401 || response.status === 403)
    throw new GitspacesError(
      'HARNESS_API_FAILED',
      `Harness refused the API key of HARNESS_API_KEY_SECRET (${response.status}): use a key of account ${o.accountId} with delegate view permission.`,
    );
  if (!response.ok)
    throw new GitspacesError(
      'HARNESS_API_FAILED',
      `Harness answered ${response.status} for the latest delegate version.`,
      {
        retryable: response.status >= 500,
      },
    );
  const body = (await response.json().catch(() => ({}))) as Answer;
  const version = body.resource?.latestSupportedVersion ?? body.data?.latestSupportedVersion;
  return typeof version === 'string' && version !== '' ? version : undefined;
}

export function createDelegateVersions(o: DelegateVersionsOptions): DelegateVersions {
  const now = o.now ?? Date.now;
  let cached: { at: number; answer: Promise<string | undefined> } | undefined;
  return {
    latestSupported() {
      if (cached && now() - cached.at < (o.cacheMs ?? 600_000)) return cached.answer;
      const answer = ask(o);
      cached = { at: now(), answer };
      answer.catch(() => {
        if (cached?.answer === answer) cached = undefined;
      });
      return answer;
    },
  };
}
