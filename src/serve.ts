import type { Io } from './cli/terminal-run.js';
import type { Config } from './config.js';

/** `serve`, `app` and `worker`: long-running processes that stop cleanly on SIGTERM/SIGINT. */
export async function serve(kind: 'serve' | 'app' | 'worker', config: Config, io: Io): Promise<number> {
  void config;
  io.stderr.write(`${kind} is not available in this build.\n`);
  return 2;
}
