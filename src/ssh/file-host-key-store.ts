import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GitspacesError } from '../errors.js';
import type { HostKey, HostKeyStore } from '../setup/ports.js';

interface StoreFile {
  version: 1;
  hosts: Record<string, HostKey & { firstSeen: string }>;
}

function isHostKey(value: unknown): value is HostKey {
  const v = value as Partial<HostKey> | null;
  return typeof v === 'object' && v !== null && typeof v.type === 'string' && typeof v.base64 === 'string';
}

async function load(path: string): Promise<StoreFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, hosts: {} };
    throw new GitspacesError(
      'CONFIG_INVALID',
      `Cannot read the remembered host keys in ${path}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  const parsed = (() => {
    try {
      return JSON.parse(text) as Partial<StoreFile>;
    } catch {
      return undefined;
    }
  })();
  if (parsed?.version !== 1 || typeof parsed.hosts !== 'object' || parsed.hosts === null) {
    throw new GitspacesError(
      'CONFIG_INVALID',
      `${path} is not a host key store written by gitspaces-bot. Move it away; the next run pins keys afresh.`,
    );
  }
  return { version: 1, hosts: parsed.hosts };
}

/** Writes beside the target and renames, so a crash never leaves half a file; 0600 from the start. */
async function save(path: string, data: StoreFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Host keys learned on first use, kept in a JSON file (the CLI's `tofu` mode, which runs without Redis).
 * Calls are serialised within the process; one CLI run owns the file at a time.
 */
export function createFileHostKeyStore(path: string): HostKeyStore {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    recall: (vm) =>
      serial(async () => {
        const entry = (await load(path)).hosts[vm];
        return isHostKey(entry) ? { type: entry.type, base64: entry.base64 } : undefined;
      }),
    remember: (vm, key) =>
      serial(async () => {
        const data = await load(path);
        const entry = data.hosts[vm];
        if (isHostKey(entry)) return { type: entry.type, base64: entry.base64 };
        data.hosts[vm] = { type: key.type, base64: key.base64, firstSeen: new Date().toISOString() };
        await save(path, data);
        return { type: key.type, base64: key.base64 };
      }),
  };
}
