import type { Config } from '../config.js';
import { egressProxy } from '../egress-proxy.js';
import { asGitspacesError } from '../errors.js';
import { createSecretManagerSource } from '../gcp/secrets.js';
import { createDelegateVersions } from '../harness/delegate-versions.js';
import { createSecretSource } from '../secrets/index.js';
import { delegateAdvice } from '../setup/delegate-age.js';
import { type ConfigCheckRow, failRow, okRow } from './rows.js';

/**
 * DELEGATE_IMAGE's age from its tag, with Harness's latest supported version when HARNESS_API_KEY_SECRET
 * lets the bot ask. An old image is said, not failed: the VMs running it still work until its end of life,
 * and a tag that is not `YY.MM.build` is only "age unknown".
 */
export async function checkDelegateImage(
  config: Config,
  now: number,
  timeoutMs: number,
): Promise<ConfigCheckRow[]> {
  const { apiKeySecret, accountId, managerUrl } = config.harness;
  let latest: string | undefined;
  const rows: ConfigCheckRow[] = [];
  if (apiKeySecret !== undefined && accountId !== undefined) {
    const secrets = createSecretSource({ env: config.env, secretManager: createSecretManagerSource(config) });
    try {
      const versions = createDelegateVersions({
        managerUrl,
        accountId,
        apiKeyRef: apiKeySecret,
        secrets,
        timeoutMs,
        fetch: egressProxy(config.env)?.fetch,
      });
      latest = await versions.latestSupported();
      rows.push(okRow('Harness delegate version', `latest supported: ${latest ?? 'not in the answer'}`));
    } catch (error) {
      rows.push(
        failRow(
          'Harness delegate version',
          asGitspacesError(error).message,
          'check HARNESS_API_KEY_SECRET and HARNESS_MANAGER_URL',
        ),
      );
    }
  }
  const advice = delegateAdvice(config.delegateImage, now, '<vm>', latest);
  rows.unshift(okRow('delegate image', `${advice.stale ? 'warning: ' : ''}${advice.text}`));
  return rows;
}
