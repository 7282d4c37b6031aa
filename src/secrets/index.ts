import { GitspacesError } from '../errors.js';
import type { SecretSource } from '../setup/ports.js';
import { envSecretSource } from './env-secret-source.js';
import { fileSecretSource } from './file-secret-source.js';

export { envSecretSource } from './env-secret-source.js';
export { fileSecretSource } from './file-secret-source.js';

export interface SecretSourceOptions {
  /** Where `env:VAR` references are read; the environment the configuration came from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Reads every reference that is neither `file:` nor `env:` (Secret Manager names). */
  secretManager?: SecretSource | undefined;
}

/** A reference read from Secret Manager: neither `file:/path` nor `env:VAR`. */
export function isSecretManagerRef(reference: string): boolean {
  return !/^(file|env):/.test(reference.trim());
}

/** Whether any of the configured secrets is read from Secret Manager (so its client is needed). */
export function usesSecretManager(secrets: Readonly<Record<string, string | undefined>>): boolean {
  return Object.values(secrets).some((ref) => ref !== undefined && isSecretManagerRef(ref));
}

/** Dispatches a secret reference by its prefix: `file:/path`, `env:VAR`, or a Secret Manager name. */
export function createSecretSource(options: SecretSourceOptions): SecretSource {
  const files = fileSecretSource();
  const env = envSecretSource(options.env);
  return {
    async read(reference) {
      if (reference.startsWith('file:')) return files.read(reference);
      if (reference.startsWith('env:')) return env.read(reference);
      if (options.secretManager === undefined) {
        throw new GitspacesError(
          'SECRET_INVALID_REF',
          `Secret "${reference}" is a Secret Manager name, but Secret Manager is not configured here: set ` +
            'GCP_PROJECT (and SECRET_MANAGER_API_URL for an emulator), or use file:/path or env:VAR.',
        );
      }
      return options.secretManager.read(reference);
    },
  };
}
