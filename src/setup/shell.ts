/** Quotes one value for a POSIX shell: always single quotes, embedded ones closed and escaped. */
export function quote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one shell command with every argument quoted. */
export function command(...argv: string[]): string {
  return argv.map(quote).join(' ');
}

/**
 * A command or whole script that needs root: as is for root, otherwise all of it under `sudo -n sh -c`
 * (never prompts). Prefixing only `sudo -n` would cover the first command of `a && b` alone, and turn
 * `(a || b)` into a syntax error.
 */
export function privileged(user: string, script: string): string {
  return user === 'root' ? script : `sudo -n sh -c ${quote(script)}`;
}
