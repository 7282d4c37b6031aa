import { GitspacesError } from '../errors.js';

/** An empty (or whitespace-only) secret is always a mistake: a token or key that was never filled in. */
export function nonEmpty(data: Buffer, reference: string, why: string): Buffer {
  if (data.toString('utf8').trim() === '') {
    throw new GitspacesError(
      'SECRET_UNREADABLE',
      `Secret ${reference} is empty (${why}): put the secret there.`,
    );
  }
  return data;
}
