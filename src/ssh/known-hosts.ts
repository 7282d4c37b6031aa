import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GitspacesError } from '../errors.js';
import type { HostKey } from '../setup/ports.js';
import { parsePublicKeyLine, sameHostKey } from './host-key.js';

/** How OpenSSH names a host in known_hosts: the bare name on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** `|1|salt|hash`: HMAC-SHA1 of the host name keyed with the salt (HashKnownHosts in ssh_config). */
function matchesHashed(entry: string, name: string): boolean {
  const [, magic, salt, hash] = entry.split('|');
  if (magic !== '1' || salt === undefined || hash === undefined) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** A comma list of patterns (`*`, `?`, `!negation`), as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes. */
function matchesPatterns(field: string, name: string): boolean {
  if (field.startsWith('|')) return matchesHashed(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern === '' || !globToRegExp(pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

interface Entry {
  marker: string | undefined;
  hosts: string;
  key: HostKey;
}

function parseLine(line: string): Entry | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const fields = trimmed.split(/\s+/);
  const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
  const [hosts, type, data] = fields;
  if (hosts === undefined || type === undefined || data === undefined) return undefined;
  try {
    return { marker, hosts, key: parsePublicKeyLine(`${type} ${data}`) };
  } catch {
    // ssh(1) skips lines it cannot read; one stray line must not hide the good ones.
    return undefined;
  }
}

/** The keys known_hosts text lists for a host and port, minus any marked `@revoked`. */
export function hostKeysFromKnownHosts(text: string, host: string, port: number): HostKey[] {
  const name = knownHostsName(host, port);
  const found: HostKey[] = [];
  const revoked: HostKey[] = [];
  for (const line of text.split('\n')) {
    const entry = parseLine(line);
    if (entry === undefined) continue;
    if (entry.marker === '@revoked') revoked.push(entry.key);
    // A CA key signs host certificates; it is never the host key itself.
    if (entry.marker !== undefined) continue;
    if (matchesPatterns(entry.hosts, name) && !found.some((k) => sameHostKey(k, entry.key)))
      found.push(entry.key);
  }
  return found.filter((key) => !revoked.some((r) => sameHostKey(r, key)));
}

/** Reads a known_hosts file (SSH_KNOWN_HOSTS or `--known-hosts`) and returns the keys for host and port. */
export async function readKnownHosts(file: string, host: string, port: number): Promise<HostKey[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the file does not exist'
        : code === 'EACCES'
          ? 'this process may not read it (check its owner and mode)'
          : `it could not be read (${code ?? String(error)})`;
    throw new GitspacesError(
      'CONFIG_INVALID',
      `Cannot read the known_hosts file ${file}: ${why}. Point SSH_KNOWN_HOSTS (or --known-hosts) at a file with a line for ${knownHostsName(host, port)}.`,
      { cause: error },
    );
  }
  return hostKeysFromKnownHosts(text, host, port);
}
