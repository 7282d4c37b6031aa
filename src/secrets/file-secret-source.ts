import { open } from 'node:fs/promises';
import { GitspacesError } from '../errors.js';
import type { SecretSource } from '../setup/ports.js';
import { nonEmpty } from './non-empty.js';

// Secrets here are a token, a key or a pool file: anything larger is a wrong path (a disk image, /dev/zero).
const MAX_BYTES = 1024 * 1024;

function openError(error: unknown, reference: string): GitspacesError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new GitspacesError('SECRET_NOT_FOUND', `Secret ${reference} not found: the file does not exist.`, {
      cause: error,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new GitspacesError(
      'SECRET_PERMISSION_DENIED',
      `Secret ${reference} is not readable by this process (uid ${process.getuid?.() ?? '?'}): fix the file's ` +
        'owner or mode (chmod 0400, owned by the user the bot runs as).',
      { cause: error },
    );
  }
  return new GitspacesError(
    'SECRET_UNREADABLE',
    `Secret ${reference} could not be read (${code ?? 'error'}).`,
    {
      cause: error,
    },
  );
}

/** Reads `file:/path` references: a regular file, whole, as it is (trimming is the caller's call). */
export function fileSecretSource(): SecretSource {
  return {
    async read(reference) {
      const path = reference.slice('file:'.length);
      if (path === '') {
        throw new GitspacesError(
          'SECRET_INVALID_REF',
          `Secret reference "${reference}" names no file: use file:/path.`,
        );
      }
      const handle = await open(path, 'r').catch((error: unknown) => {
        throw openError(error, reference);
      });
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) {
          throw new GitspacesError('SECRET_INVALID_REF', `Secret ${reference} is not a regular file.`);
        }
        if (stat.size > MAX_BYTES) {
          throw new GitspacesError(
            'SECRET_UNREADABLE',
            `Secret ${reference} is ${stat.size} bytes, more than a secret should be (1 MiB): check the path.`,
          );
        }
        const data = await handle.readFile().catch((error: unknown) => {
          throw openError(error, reference);
        });
        return nonEmpty(data, reference, 'the file is empty');
      } finally {
        await handle.close();
      }
    },
  };
}
