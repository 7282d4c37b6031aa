/**
 * The bot as a user starts it: `node bin/gitspaces-bot.js serve` (or `npm start`) in a directory of its own
 * holding this checkout's build (compiled into a temporary directory, so the checkout's dist/ is neither
 * needed nor touched), configured only through its environment.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A digest of everything the build reads, so test files (and runs) with the same sources share one build.
 * The checkout's path is part of it: a build links to its checkout's node_modules, which another (or a
 * removed) checkout of the same sources does not share.
 */
function sourceDigest(): string {
  const hash = createHash('sha256').update(ROOT);
  const files = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/gitspaces-bot.js'];
  for (const entry of readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) files.push(relative(ROOT, join(entry.parentPath, entry.name)));
  for (const file of files.sort()) hash.update(file).update(readFileSync(join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles the CLI's import graph (types are the typecheck's job) beside a copy of bin/ and package.json,
 * once per version of the sources: a build another test file made of the same sources is used as it is.
 */
export async function buildBot(): Promise<{ dir: string }> {
  const dir = join(tmpdir(), `gsb-bot-${sourceDigest()}`);
  if (existsSync(join(dir, 'dist/src/cli.js'))) return { dir };
  const work = mkdtempSync(`${dir}-building-`);
  mkdirSync(join(work, 'bin'));
  copyFileSync(join(ROOT, 'bin/gitspaces-bot.js'), join(work, 'bin/gitspaces-bot.js'));
  copyFileSync(join(ROOT, 'package.json'), join(work, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  const tsconfig = {
    extends: join(ROOT, 'tsconfig.build.json'),
    compilerOptions: { outDir: join(work, 'dist'), rootDir: ROOT, sourceMap: false, noCheck: true },
    files: [join(ROOT, 'src/cli.ts')],
    include: [],
  };
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(tsconfig));
  await promisify(execFile)(process.execPath, [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(work, 'tsconfig.json'),
  ]);
  try {
    renameSync(work, dir);
  } catch {
    // Another test file finished the same build first: use that one.
    rmSync(work, { recursive: true, force: true });
  }
  return { dir };
}

export interface BotProcess {
  child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone and its output read. */
  exited: Promise<number | string>;
  /** Waits for `pattern` in the output; its first group (or the match). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Starts `command` (default `node bin/gitspaces-bot.js serve`) in `dir` with only `env`. */
export function startBot(
  dir: string,
  env: NodeJS.ProcessEnv,
  command: [string, ...string[]] = [process.execPath, 'bin/gitspaces-bot.js', 'serve'],
): BotProcess {
  const [file, ...args] = command;
  const child = spawn(file, args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'gsb-home-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    out += String(chunk);
    err += String(chunk);
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    output: () => out,
    stderr: () => err,
    exited,
    async waitFor(pattern, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match[1] ?? match[0];
        if (Date.now() > end || child.exitCode !== null)
          throw new Error(`no ${pattern} in the bot's output:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The exit code, or 'still running' when the process has not ended within `ms`. */
export async function exitWithin(bot: BotProcess, ms: number): Promise<number | string> {
  return Promise.race([bot.exited, new Promise<string>((r) => setTimeout(() => r('still running'), ms))]);
}
