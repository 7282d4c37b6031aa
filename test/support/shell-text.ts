/**
 * A command as the VM's shell receives it, with the quoting of `sudo -n sh -c '<script>'` taken off once, so
 * that a test can look for `'docker' 'run'` whether or not the SSH user needed sudo for it.
 */
export const shellText = (command: string): string => command.replaceAll(`'\\''`, `'`);
