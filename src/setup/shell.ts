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

/**
 * File content as stdin text for a script that writes it with `base64 -d >"$file"`: base64 in lines of 76,
 * so any bytes travel through a shell's here-document unchanged, and never through an argv.
 */
export function stdinFile(content: string | Buffer): string {
  const encoded = Buffer.from(content).toString('base64');
  return `${encoded.replace(/.{1,76}/g, '$&\n')}`;
}
