/**
 * Performs the image's build and run steps without a Docker engine: the build context is the tracked files
 * minus .dockerignore, each stage gets a directory standing for its filesystem, and WORKDIR, ENV, COPY and
 * RUN are carried out as the Dockerfile says. Then the entry point runs as the container would. Slow (two
 * npm installs and a TypeScript build): it reuses the npm cache and prefers it to the network.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyParts, envPairs, isIgnored, parseDockerfile, type Stage } from './dockerfile-parse.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

interface BuiltStage {
  fs: string;
  workdir: string;
  env: Record<string, string>;
  command: string[];
}

let tmp: string;
const built: BuiltStage[] = [];

async function buildContext(): Promise<string> {
  const context = join(tmp, 'context');
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
  const { stdout } = await exec('git', ['ls-files'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split('\n').filter(Boolean)) {
    if (isIgnored(file, dockerignore) || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(context, file)), { recursive: true });
    cpSync(join(ROOT, file), join(context, file));
  }
  return context;
}

/** Docker copies a directory's contents (not the directory) and a file into `dest/` by its name. */
function copy(from: string, dest: string, manySources: boolean): void {
  if (statSync(from).isDirectory()) {
    cpSync(from, dest, { recursive: true });
    return;
  }
  const target = dest.endsWith('/') || manySources ? join(dest, basename(from)) : dest;
  mkdirSync(dirname(target), { recursive: true });
  cpSync(from, target);
}

async function run(command: string, stage: BuiltStage): Promise<void> {
  // `npm cache clean` would empty this machine's shared cache; in the image it only trims a layer.
  const kept = command
    .split('&&')
    .map((s) => s.trim())
    .filter((s) => !/^npm cache clean\b/.test(s));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmp,
    ...stage.env,
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  await exec('sh', ['-c', kept.join(' && ')], { cwd: stage.workdir, env, maxBuffer: 64 * 1024 * 1024 });
}

async function buildStage(stage: Stage, index: number, context: string): Promise<BuiltStage> {
  const fs = join(tmp, `stage-${index}`);
  const b: BuiltStage = { fs, workdir: fs, env: {}, command: [] };
  const inStage = (path: string, base = b.workdir) => (isAbsolute(path) ? join(fs, path) : join(base, path));
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const ins of stage.instructions) {
    if (ins.keyword === 'WORKDIR') {
      b.workdir = inStage(ins.args);
      mkdirSync(b.workdir, { recursive: true });
    } else if (ins.keyword === 'ENV') {
      for (const [name, value] of envPairs(ins.args)) b.env[name] = value;
    } else if (ins.keyword === 'COPY') {
      const { sources, dest } = copyParts(ins);
      const from =
        ins.flags.from === undefined ? undefined : built[stages.findIndex((s) => s.name === ins.flags.from)];
      for (const source of sources) {
        const origin = from === undefined ? join(context, source) : join(from.fs, source);
        expect(
          existsSync(origin),
          `COPY ${source} (line ${ins.line}): not in ${from ? 'that stage' : 'the build context'}`,
        ).toBe(true);
        copy(origin, `${inStage(dest)}${dest.endsWith('/') ? '/' : ''}`, sources.length > 1);
      }
    } else if (ins.keyword === 'RUN') {
      await run(ins.args, b);
    } else if (ins.keyword === 'ENTRYPOINT') {
      entrypoint = ins.exec ?? [];
    } else if (ins.keyword === 'CMD') {
      cmd = ins.exec ?? [];
    }
  }
  b.command = [...entrypoint, ...cmd];
  return b;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gsb-image-'));
  const context = await buildContext();
  for (const [index, stage] of stages.entries()) built.push(await buildStage(stage, index, context));
}, 300_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The container's command with its last argument (CMD) replaced, run with the image's ENV and nothing else. */
async function container(args: string[]) {
  const image = built.at(-1) as BuiltStage;
  const [node, ...entry] = image.command.slice(0, -1);
  expect(node).toBe('node');
  try {
    const r = await exec(process.execPath, [...entry, ...args], {
      cwd: image.workdir,
      env: image.env,
      timeout: 60_000,
    });
    return { code: 0, ...r };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the container image, built and run step by step', () => {
  it('holds the built code and production dependencies only, no sources, tests or .env', () => {
    const app = (built.at(-1) as BuiltStage).workdir;
    expect(existsSync(join(app, 'dist/src/cli.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/pino'))).toBe(true);
    for (const absent of ['src', 'test', '.env', 'node_modules/typescript', 'node_modules/vitest']) {
      expect(existsSync(join(app, absent)), absent).toBe(false);
    }
  });

  it('answers --help with the usage and exit 0', async () => {
    const r = await container(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: gitspaces-bot <command>');
    expect(r.stdout).toContain('check-config');
  });

  it('check-config with an empty environment exits non-zero and names every missing setting', async () => {
    const r = await container(['check-config']);
    expect(r.code).toBe(1);
    for (const name of [
      'SLACK_BOT_TOKEN',
      'APPROVERS',
      'POOL_SECRET',
      'DELEGATE_TOKEN_SECRET',
      'SSH_KEY_SECRET',
      'HARNESS_ACCOUNT_ID',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${name} +FAIL +${name} is missing`, 'm'));
    }
  });

  it('refuses to serve with an empty environment, saying which settings are missing', async () => {
    const r = await container(['serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SLACK_BOT_TOKEN is missing');
    expect(r.stderr).toContain('see .env.example');
  });
});
