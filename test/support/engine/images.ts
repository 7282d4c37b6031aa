import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DELEGATE_IMAGE } from '../../../src/config.js';
import type { TestEngine } from './daemon.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/engine-images');
const RUNNER_NAME = 'drone/drone-runner-aws:latest';
/** The default delegate reference without its registry host, so the loopback registry can serve it. */
const DELEGATE_PATH = DEFAULT_DELEGATE_IMAGE.replace(/^[^/]+\//, '');

export type ImageKind = 'runner' | 'delegate';

const applets = (() => {
  let list: string[] | undefined;
  return () => {
    list ??= spawnSync('/usr/bin/busybox', ['--list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((name) => /^[a-z0-9_.[-]+$/.test(name) && name !== 'busybox');
    return list;
  };
})();

/** A build context `FROM scratch`: static busybox with its applets linked in /bin, plus the given files. */
function context(files: Record<string, string>, entrypoint: string[], extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'gsb-image-'));
  const root = join(dir, 'rootfs');
  for (const sub of ['bin', 'usr/bin', 'tmp', 'etc']) mkdirSync(join(root, sub), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(root, 'bin/busybox'));
  for (const name of applets()) symlinkSync('busybox', join(root, 'bin', name));
  for (const [target, source] of Object.entries(files)) copyFileSync(source, join(root, target));
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM scratch\nCOPY rootfs/ /\n${extra}ENTRYPOINT ${JSON.stringify(entrypoint)}\n`,
  );
  return dir;
}

/** Builds an image locally and pushes it to the registry; the engine keeps no copy, so the bot must pull it. */
function buildAndPush(engine: TestEngine, dir: string, ref: string): void {
  try {
    engine.docker(['build', '-q', '-t', ref, dir]);
    engine.docker(['push', '-q', ref]);
    engine.docker(['rmi', ref]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestImages {
  runner: string;
  delegate: string;
  /** Pushes new content under the same tag (a rebuilt image: another id). */
  republish(kind: ImageKind, variant: string): void;
}

const DELEGATE_FILES = () => ({
  'bin/delegate': join(FIXTURES, 'delegate.sh'),
  'usr/bin/curl': join(FIXTURES, 'curl.sh'),
});

/** The stand-in runner and delegate under the bot's default names, served by the loopback registry. */
export function publishImages(engine: TestEngine, registry: string): TestImages {
  const refs = { runner: `${registry}/${RUNNER_NAME}`, delegate: `${registry}/${DELEGATE_PATH}` };
  const publish = (kind: ImageKind, variant: string) => {
    const files: Record<string, string> =
      kind === 'runner' ? { 'bin/runner': join(FIXTURES, 'runner.sh') } : DELEGATE_FILES();
    const entry = kind === 'runner' ? ['/bin/sh', '/bin/runner'] : ['/bin/sh', '/bin/delegate'];
    buildAndPush(engine, context(files, entry, `LABEL io.harness.test.variant=${variant}\n`), refs[kind]);
  };
  publish('runner', 'first');
  publish('delegate', 'first');
  return { ...refs, republish: publish };
}

/**
 * An image of at least `megabytes` of random data (one layer), for pull timings: the stand-in delegate
 * itself (it becomes healthy like the small one), under the delegate's repository with tag `tag`.
 */
export function publishBigImage(
  engine: TestEngine,
  registry: string,
  megabytes: number,
  tag = 'big',
): string {
  const ref = `${registry}/${DELEGATE_PATH.replace(/:[^:/]+$/, '')}:${tag}`;
  const dir = context(DELEGATE_FILES(), ['/bin/sh', '/bin/delegate']);
  const blob = spawnSync('head', ['-c', `${megabytes}M`, '/dev/urandom'], {
    maxBuffer: (megabytes + 1) << 20,
  });
  writeFileSync(join(dir, 'rootfs/blob'), blob.stdout);
  buildAndPush(engine, dir, ref);
  return ref;
}

/**
 * The delegate image under another tag (another image id: `extra` Dockerfile lines and a label), pushed to
 * the registry and not kept on the engine, as an upgrade's new image is.
 */
export function publishDelegateTag(engine: TestEngine, delegate: string, tag: string, extra = ''): string {
  const ref = delegate.replace(/:[^:/]+$/, `:${tag}`);
  const dir = mkdtempSync(join(tmpdir(), 'gsb-tag-'));
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${delegate}\nLABEL io.harness.test.variant=${tag}\n${extra}`);
  buildAndPush(engine, dir, ref);
  return ref;
}
