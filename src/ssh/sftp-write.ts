import type { SFTPWrapper } from 'ssh2';
import { GitspacesError } from '../errors.js';

// Below OpenSSH's 256 KiB SFTP packet limit and ssh2's default window, so each write is one request.
const CHUNK = 32 * 1024;

type Callback<T> = (error: Error | null | undefined, value: T) => void;
const call = <T>(fn: (done: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));

/**
 * Creates or truncates `path` and writes `data`. The file is opened with `mode` and then chmod-ed, so a file
 * that already existed with a wider mode is narrowed before any content reaches it.
 */
export async function writeRemoteFile(
  sftp: SFTPWrapper,
  path: string,
  data: Buffer,
  mode: number,
): Promise<void> {
  const handle = await call<Buffer>((done) => sftp.open(path, 'w', { mode }, done));
  try {
    await call<void>((done) => sftp.fchmod(handle, mode, (error) => done(error, undefined)));
    for (let offset = 0; offset < data.length; offset += CHUNK) {
      const length = Math.min(CHUNK, data.length - offset);
      await call<void>((done) =>
        sftp.write(handle, data, offset, length, offset, (error) => done(error, undefined)),
      );
    }
  } catch (error) {
    await call<void>((done) => sftp.close(handle, () => done(null, undefined)));
    throw error;
  }
  await call<void>((done) => sftp.close(handle, (error) => done(error, undefined)));
}

// SSH_FX_* status codes (draft-ietf-secsh-filexfer-02 §7).
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

/** Explains a failed SFTP write; says who may not write where. */
export function sftpWriteError(error: unknown, path: string, user: string): GitspacesError {
  const e = error as Error & { code?: number };
  const hint =
    e.code === PERMISSION_DENIED
      ? ` The SSH user ${user} may not write there: use a directory it owns (the file is moved into place with sudo).`
      : e.code === NO_SUCH_FILE
        ? ' Its directory does not exist on the VM.'
        : '';
  return new GitspacesError(
    'COMMAND_FAILED',
    `Cannot write ${path} on the VM over SFTP: ${e.message}.${hint}`,
    {
      cause: error,
    },
  );
}
