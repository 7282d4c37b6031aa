import { GitspacesError } from '../errors.js';
import type { SecretSource } from '../setup/ports.js';
import { nonEmpty } from './non-empty.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads `env:VAR` references from `env` (the environment the configuration was loaded from). */
export function envSecretSource(env: Readonly<Record<string, string | undefined>>): SecretSource {
  return {
    async read(reference) {
      const name = reference.slice('env:'.length);
      if (!NAME.test(name)) {
        throw new GitspacesError(
          'SECRET_INVALID_REF',
          `Secret reference "${reference}" does not name an environment variable: use env:VAR_NAME.`,
        );
      }
      const value = env[name];
      if (value === undefined) {
        throw new GitspacesError(
          'SECRET_NOT_FOUND',
          `Secret ${reference} not found: the environment variable ${name} is not set (in the environment or .env).`,
        );
      }
      return nonEmpty(Buffer.from(value, 'utf8'), reference, `${name} is set but empty`);
    },
  };
}
