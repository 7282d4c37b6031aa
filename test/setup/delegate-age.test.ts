import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDelegateImage } from '../../src/check-config/delegate-check.js';
import { loadConfig } from '../../src/config.js';
import { createDelegateVersions } from '../../src/harness/delegate-versions.js';
import { createSecretSource } from '../../src/secrets/index.js';
import { delegateAdvice } from '../../src/setup/delegate-age.js';
import { describeStatus, type VmStatus } from '../../src/setup/probe.js';
import { probeChecks } from '../../src/slack/blocks/probe-checks.js';

/** Today, as the issue fixes it: 2 December 2026. */
const NOW = Date.UTC(2026, 11, 2, 1, 50);
const REPO = 'us-west1-docker.pkg.dev/gar-setup/docker/delegate';
const API_KEY = 'pat.XxRn14tYSUKILSe3XU0R8w.apikey-never-shown';

/** Harness's manager as the bot asks it: the latest supported delegate version of an account. */
let seen: IncomingMessage[] = [];
const manager = createServer((request, response) => {
  seen.push(request);
  const url = new URL(request.url ?? '/', 'http://x');
  if (url.pathname !== '/ng/api/delegate-setup/latest-supported-version') {
    response.writeHead(404).end();
  } else if (request.headers['x-api-key'] !== API_KEY) {
    response.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"INVALID_TOKEN"}');
  } else {
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        metaData: null,
        resource: {
          latestSupportedVersion: '26.11.87100',
          latestSupportedMinimalVersion: '26.11.87100.minimal',
        },
        responseMessages: [],
      }),
    );
  }
});
let managerUrl = '';
beforeAll(async () => {
  await new Promise<void>((ok) => manager.listen(0, '127.0.0.1', ok));
  managerUrl = `http://127.0.0.1:${(manager.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((ok) => manager.close(ok)));

const env = (over: Record<string, string>) => ({
  HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
  HARNESS_MANAGER_URL: managerUrl,
  ...over,
});

describe("the delegate image's age, from its YY.MM.build tag", () => {
  it.each([
    ['26.12.87500', 'is less than a month old', false],
    ['26.05.86100', 'is 7 months old', true],
    ['26.03.85800', 'is 9 months old', true],
  ])('%s %s', (tag, words, stale) => {
    const advice = delegateAdvice(`${REPO}:${tag}`, NOW, 'vm-1');
    expect(advice.stale).toBe(stale);
    expect(advice.text).toContain(
      `delegate ${tag} ${words}: Harness ends support at 6 months and the image's life at 8`,
    );
    if (stale) expect(advice.text).toContain('`/gitspaces upgrade vm-1 delegate=<tag>`');
  });

  it('shows a tag it cannot parse as "age unknown", never as an error', () => {
    expect(delegateAdvice(`${REPO}:latest`, NOW, 'vm-1')).toEqual({
      text: 'delegate latest: age unknown (the tag is not YY.MM.build)',
      stale: false,
    });
  });

  it('check-config says how old DELEGATE_IMAGE is and how to find a newer tag', async () => {
    for (const [tag, words] of [
      ['26.12.87500', 'less than a month old'],
      ['26.05.86100', '7 months old'],
      ['26.03.85800', '9 months old'],
      ['not-a-version', 'age unknown'],
    ] as const) {
      const config = loadConfig(env({ DELEGATE_IMAGE: `${REPO}:${tag}` }), { dotEnv: false });
      const [row] = await checkDelegateImage(config, NOW, 2000);
      expect(row?.status).toBe('ok');
      expect(row?.detail).toContain(words);
    }
    const old = loadConfig(env({ DELEGATE_IMAGE: `${REPO}:26.03.85800` }), { dotEnv: false });
    const [row] = await checkDelegateImage(old, NOW, 2000);
    expect(row?.detail).toMatch(/^warning: .*Account Settings → Delegates.*HARNESS_API_KEY_SECRET/);
  });

  it('with HARNESS_API_KEY_SECRET, asks Harness for the latest supported version and offers it', async () => {
    seen = [];
    const config = loadConfig(
      env({
        DELEGATE_IMAGE: `${REPO}:26.03.85800`,
        HARNESS_API_KEY_SECRET: 'env:HARNESS_KEY',
        HARNESS_KEY: API_KEY,
      }),
      { dotEnv: false },
    );
    const rows = await checkDelegateImage(config, NOW, 2000);
    expect(rows[0]?.detail).toContain('`/gitspaces upgrade <vm> delegate=26.11.87100`');
    expect(rows[1]).toMatchObject({ status: 'ok', detail: 'latest supported: 26.11.87100' });
    expect(seen[0]?.url).toBe(
      '/ng/api/delegate-setup/latest-supported-version?accountIdentifier=XxRn14tYSUKILSe3XU0R8w',
    );
    expect(JSON.stringify(rows)).not.toContain(API_KEY);
  });

  it('says a refused API key is refused, naming the setting, without the key', async () => {
    const versions = createDelegateVersions({
      managerUrl,
      accountId: 'XxRn14tYSUKILSe3XU0R8w',
      apiKeyRef: 'env:HARNESS_KEY',
      secrets: createSecretSource({ env: { HARNESS_KEY: 'wrong-key' } }),
    });
    await expect(versions.latestSupported()).rejects.toThrow(
      /refused the API key of HARNESS_API_KEY_SECRET \(401\)/,
    );
  });

  it('status shows the running delegate image age, and Slack marks an old one', () => {
    const status: VmStatus = {
      docker: '27.3.1',
      network: true,
      runner: { name: 'vm-runner', state: undefined, healthy: true },
      delegate: { name: 'vm-1-delegate', state: undefined, healthy: true },
      delegateAge: delegateAdvice(`${REPO}:26.05.86100`, NOW, 'vm-1'),
    };
    expect(describeStatus(status).at(-1)).toMatch(/^warning: delegate 26\.05\.86100 is 7 months old/);
    expect(probeChecks(status).at(-1)).toMatchObject({ id: 'delegate-age', ok: false });
  });
});
