import { type ErrorCode, GitspacesError, type GitspacesErrorOptions } from '../errors.js';

/** The fix sentence of each error built here, so `check-config` can show problem and fix in their own columns. */
const fixes = new WeakMap<GitspacesError, { problem: string; fix: string }>();

/** A coded error whose message is "<problem> <fix>". */
export function gcpError(
  code: ErrorCode,
  problem: string,
  fix: string,
  options?: GitspacesErrorOptions,
): GitspacesError {
  const error = new GitspacesError(code, `${problem} ${fix}`, options);
  fixes.set(error, { problem, fix });
  return error;
}

/** Problem and fix of an error built by `gcpError`; other errors come back whole as the problem. */
export function splitFix(error: GitspacesError): { problem: string; fix: string | undefined } {
  return fixes.get(error) ?? { problem: error.message, fix: undefined };
}
