/** The product's coded error a promise rejects with; the test fails when it resolves or rejects otherwise. */
import { expect } from 'vitest';
import { GitspacesError } from '../../src/errors.js';

export async function codedError(promise: Promise<unknown>): Promise<GitspacesError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitspacesError);
  return error as GitspacesError;
}
