/** SSH_PROXY_COMMAND's program: found on this machine, as the bot will run it (IAP needs the Google Cloud CLI). */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config } from '../config.js';
import { type ConfigCheckRow, failRow, okRow } from './rows.js';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `program` runs from: itself when it names a path, else the first match on PATH. */
function located(program: string, path: string | undefined): string | undefined {
  if (program.includes('/')) return executable(program) ? program : undefined;
  return (path ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, program))
    .find(executable);
}

export function checkProxyCommand(config: Config): ConfigCheckRow[] {
  const command = config.ssh.proxyCommand;
  if (command === undefined) return [];
  const program = command.split(/\s+/)[0] ?? '';
  const found = located(program, config.env.PATH);
  if (found !== undefined)
    return [okRow('SSH_PROXY_COMMAND', `SSH goes through \`${program}\` (${found}) to every VM`)];
  return [
    failRow(
      'SSH_PROXY_COMMAND',
      `\`${program}\` is not found on this machine (PATH), so no VM can be reached`,
      'Install it where the bot runs (for IAP: the Google Cloud CLI, https://cloud.google.com/sdk/docs/install), or correct SSH_PROXY_COMMAND.',
    ),
  ];
}
