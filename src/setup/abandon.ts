/**
 * The caller's signal says this process no longer holds the run (the queue's lock on it was lost, and
 * another worker drives it now). The engine then stops before its next step or command and reports
 * nothing more: whatever it would say, the worker holding the run says.
 */
import type { ExecOptions, RemoteHost } from './ports.js';

export class RunAbandoned extends Error {
  constructor(reason: unknown) {
    super(`the run was left to another worker: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = 'RunAbandoned';
  }
}

export function throwIfAbandoned(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RunAbandoned(signal.reason);
}

/** The run's connection, refusing every command and file once the signal has fired. */
export function guardRemote(remote: RemoteHost, signal: AbortSignal | undefined): RemoteHost {
  if (signal === undefined) return remote;
  const httpGet = remote.httpGet?.bind(remote);
  return {
    get user() {
      return remote.user;
    },
    async exec(command: string, options?: ExecOptions) {
      throwIfAbandoned(signal);
      return remote.exec(command, options);
    },
    async putFile(path: string, content: string | Buffer, mode: number) {
      throwIfAbandoned(signal);
      return remote.putFile(path, content, mode);
    },
    ...(httpGet
      ? {
          async httpGet(port: number, path: string, timeoutMs: number) {
            throwIfAbandoned(signal);
            return httpGet(port, path, timeoutMs);
          },
        }
      : {}),
    close: () => remote.close(),
  };
}
