/** Helpers for the Google failure tests: a closed port, and a failed call with how long it took. */
import { createServer } from 'node:net';
import { expect } from 'vitest';
import { GitspacesError } from '../../src/errors.js';

/** A loopback URL nothing listens on (connections are refused). */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** The coded error `work` fails with, and the milliseconds it took to fail. */
export async function timedFailure(
  work: () => Promise<unknown>,
): Promise<{ error: GitspacesError; ms: number }> {
  const started = performance.now();
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(error).toBeInstanceOf(GitspacesError);
  return { error: error as GitspacesError, ms };
}
