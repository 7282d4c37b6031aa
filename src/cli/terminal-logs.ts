import { createEngineDeps, settingsFor } from '../compose.js';
import type { Config } from '../config.js';
import type { Io } from '../io.js';
import { containerLogs } from '../setup/container-logs.js';
import { memoryJournal } from '../setup/memory-journal.js';
import type { LogsArgs } from './logs-args.js';
import { terminalReporter } from './terminal-reporter.js';
import { EXIT, hostKeyStore, targetOf } from './terminal-run.js';

/** `logs` in the terminal: the container's last lines, redacted, on stdout (so they can be piped or saved). */
export async function terminalLogs(config: Config, args: LogsArgs, io: Io): Promise<number> {
  const { target, vm } = targetOf(config, args.target);
  const store = hostKeyStore(config);
  const deps = createEngineDeps(config, {
    // Reading logs runs no steps: nothing is reported, nothing is asked.
    reporter: terminalReporter(io.stderr),
    gate: { decide: async () => ({ kind: 'pending' }) },
    journal: memoryJournal(),
    ...(store ? { hostKeyStore: store } : {}),
  });
  const logs = await containerLogs(target, settingsFor(config, vm), config.ssh, deps, {
    container: args.container,
    lines: args.lines,
  });
  if (logs.text !== '') io.stdout.write(`${logs.text}\n`);
  return EXIT.ok;
}
