/** Quotes one value for a POSIX shell: always single quotes, embedded ones closed and escaped. */
export function quote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one shell command with every argument quoted. */
export function command(...argv: string[]): string {
  return argv.map(quote).join(' ');
}

/** Prefixes `sudo -n` (never prompts) when the SSH user is not root. */
export function privileged(user: string, cmd: string): string {
  return user === 'root' ? cmd : `sudo -n ${cmd}`;
}
