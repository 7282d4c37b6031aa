/**
 * The Docker stand-in's files as the tests see them: the copy each test sshd runs, its state directory, the
 * calls it recorded and the registry a test publishes images in.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's Docker CLI stand-in (test/support/docker-stand-in/docker). */
export const STAND_IN_DIR = fileURLToPath(new URL('./docker-stand-in/', import.meta.url));

export interface FakeDockerContainer {
  id: string;
  name: string;
  image: string;
  status: string;
  env: string[];
  labels: Record<string, string>;
  network: string;
  [field: string]: unknown;
}

export interface FakeDockerState {
  containers: Record<string, FakeDockerContainer>;
  networks: Record<string, { name: string; [field: string]: unknown }>;
  images: Record<string, unknown>;
  [field: string]: unknown;
}

/** The state directory is written by root (through sudo) and by the login user alike. */
export function emptyStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
  chmodSync(dir, 0o1777);
}

/**
 * A copy of the stand-in inside the sshd's own directory: the checkout may sit in a directory only root can
 * enter (/root), which the login user could not run it from.
 */
export function copyStandIn(dir: string): string {
  const bin = join(dir, 'bin');
  cpSync(STAND_IN_DIR, bin, { recursive: true, filter: (source) => !source.endsWith('.md') });
  chmodSync(bin, 0o755);
  for (const entry of readdirSync(bin)) chmodSync(join(bin, entry), entry.endsWith('.mjs') ? 0o644 : 0o755);
  return bin;
}

/** What the stand-in's registry serves for `ref` from now on: new content (a new id on pull), or none. */
export function publishImage(dockerStateDir: string, ref: string, content: string | null): void {
  const file = join(dockerStateDir, 'registry.json');
  const registry = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : {};
  writeFileSync(file, JSON.stringify({ ...registry, [ref]: content }));
}

export function readCalls(dockerStateDir: string): string[][] {
  const file = join(dockerStateDir, 'calls.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { argv: string[] }).argv);
}

export function readDockerState(dockerStateDir: string): FakeDockerState {
  const file = join(dockerStateDir, 'state.json');
  const empty: FakeDockerState = { containers: {}, networks: {}, images: {} };
  if (!existsSync(file)) return empty;
  return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<FakeDockerState>) };
}
