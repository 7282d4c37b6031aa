/**
 * A Connector that hands the engine the real SSH connection and writes down, in order, every command it
 * runs and every file it writes: the run's work on the VM, to be replayed as one script.
 */
import type { Connector, RemoteHost } from '../../src/setup/ports.js';

export type RecordedOp =
  | { kind: 'exec'; command: string; code: number | null; stdin?: string }
  | { kind: 'put'; path: string; content: Buffer; mode: number };

export interface Recording {
  ops: RecordedOp[];
  connections: number;
}

export function recordingConnector(inner: Connector, recording: Recording): Connector {
  return async (options) => {
    const connected = await inner(options);
    recording.connections += 1;
    const real = connected.remote;
    const remote: RemoteHost = {
      user: real.user,
      async exec(command, execOptions) {
        const result = await real.exec(command, execOptions);
        const stdin = execOptions?.stdin === undefined ? {} : { stdin: execOptions.stdin };
        recording.ops.push({ kind: 'exec', command, code: result.code, ...stdin });
        return result;
      },
      async putFile(path, content, mode) {
        await real.putFile(path, content, mode);
        const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
        recording.ops.push({ kind: 'put', path, content: data, mode });
      },
      close: () => real.close(),
    };
    return { ...connected, remote };
  };
}
