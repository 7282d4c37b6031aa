import type { SecretSource } from './ports.js';
import type { Redactor } from './redactor.js';
import { poolSecretValues, saKeyFields } from './secret-values.js';
import type { SetupSettings } from './settings.js';

/**
 * Reads every secret the bot holds for a VM and registers each with the redactor, so that text read back from
 * the VM (a container's log) can be shown without them. A secret that cannot be read fails the whole request:
 * what cannot be read cannot be masked. Returns the SSH key, which the connection needs.
 */
export async function registerKnownSecrets(
  refs: SetupSettings['secretRefs'],
  secrets: SecretSource,
  redactor: Redactor,
): Promise<Buffer> {
  const [pool, token, sshKey, saKey] = await Promise.all([
    secrets.read(refs.pool),
    secrets.read(refs.delegateToken),
    secrets.read(refs.sshKey),
    refs.runnerSaKey === undefined ? Promise.resolve(undefined) : secrets.read(refs.runnerSaKey),
  ]);
  redactor
    .add(token.toString('utf8').replace(/[\r\n]+$/, ''))
    .add(sshKey)
    .add(saKey);
  for (const value of [...saKeyFields(saKey), ...poolSecretValues(pool.toString('utf8'))])
    redactor.add(value);
  return sshKey;
}
