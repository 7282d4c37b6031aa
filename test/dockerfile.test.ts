/** The container image's recipe, read instruction by instruction (there is no Docker engine to build it here). */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { copyParts, envPairs, type Instruction, isIgnored, parseDockerfile } from './dockerfile-parse.js';

const ROOT = resolve(import.meta.dirname, '..');
const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
const runtime = stages.at(-1);
const build = stages[0];
const tracked = (await promisify(execFile)('git', ['ls-files'], { cwd: ROOT })).stdout
  .split('\n')
  .filter(Boolean);

function all(keyword: string, stage = runtime): Instruction[] {
  return (stage?.instructions ?? []).filter((i) => i.keyword === keyword);
}

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_KEY|ACCESS_KEY/i;

describe('Dockerfile', () => {
  it('builds with dev dependencies in one stage and runs from another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const buildRuns = all('RUN', build).map((i) => i.args);
    expect(buildRuns.join(' && ')).toMatch(/npm ci(?![^&]*--omit=dev)/);
    expect(buildRuns.join(' && ')).toContain('npm run build');
    expect(all('COPY').some((i) => i.flags.from === build?.name)).toBe(true);
  });

  it('installs dependencies before copying the sources, so a source change reuses the installed layer', () => {
    const steps = build?.instructions ?? [];
    const install = steps.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    const sources = steps.findIndex((i) => i.keyword === 'COPY' && copyParts(i).sources.includes('src'));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(install).toBeLessThan(sources);
  });

  it('uses a slim image of a Node LTS line (even major, 20 or later) in every stage', () => {
    for (const stage of stages) {
      const match = /^node:(\d+)(?:\.\d+)*(?:-[a-z]+)?-slim$/.exec(stage.image);
      expect(match, `${stage.image} is not node:<LTS>-slim`).not.toBeNull();
      const major = Number(match?.[1]);
      expect(major % 2).toBe(0);
      expect(major).toBeGreaterThanOrEqual(20);
    }
  });

  it('installs production dependencies only in the runtime stage, without running the build script', () => {
    const install = all('RUN').find((i) => /\bnpm ci\b/.test(i.args));
    expect(install?.args).toContain('--omit=dev');
    // `prepare` compiles TypeScript, which is a dev dependency: the runtime install must skip it.
    expect(install?.args).toContain('--ignore-scripts');
    expect(all('RUN').some((i) => /npm (run )?build|\btsc\b/.test(i.args))).toBe(false);
  });

  it('runs as a user other than root, set before the command', () => {
    const users = all('USER');
    const user = users.at(-1)?.args.split(':')[0];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const index = (i: Instruction | undefined) => runtime?.instructions.indexOf(i as Instruction) ?? -1;
    expect(index(users.at(-1))).toBeLessThan(index(all('CMD').at(-1)));
  });

  it('starts `serve` through the gitspaces-bot entry point', () => {
    const command = [...(all('ENTRYPOINT').at(-1)?.exec ?? []), ...(all('CMD').at(-1)?.exec ?? [])];
    expect(command).toEqual(['node', 'bin/gitspaces-bot.js', 'serve']);
  });

  it('bakes in no secret: no ENV or ARG with a secret-looking name holds a value', () => {
    for (const ins of [...stages.flatMap((s) => s.instructions)].filter((i) =>
      ['ENV', 'ARG'].includes(i.keyword),
    )) {
      const pairs =
        ins.keyword === 'ENV'
          ? envPairs(ins.args)
          : [[ins.args.split('=')[0] ?? '', ins.args.split('=')[1] ?? '']];
      for (const [name, value] of pairs) {
        if (SECRET_NAME.test(name ?? '')) expect(value, `line ${ins.line}: ${name} has a value`).toBe('');
        expect(value).not.toMatch(/xox[abpe]-|-----BEGIN/);
      }
    }
  });

  it('copies only what the runtime needs into the runtime stage, all of it present in the build context', () => {
    const fromContext = all('COPY')
      .filter((i) => i.flags.from === undefined)
      .flatMap((i) => copyParts(i).sources);
    expect(fromContext.sort()).toEqual(['bin', 'manifest.yml', 'package-lock.json', 'package.json']);
    const fromBuild = all('COPY')
      .filter((i) => i.flags.from !== undefined)
      .flatMap((i) => copyParts(i).sources);
    expect(fromBuild).toEqual(['/app/dist']);
    for (const source of stages.flatMap((s) =>
      s.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.from),
    )) {
      for (const path of copyParts(source).sources) {
        const inContext = tracked.filter(
          (f) => (f === path || f.startsWith(`${path}/`)) && !isIgnored(f, dockerignore),
        );
        expect(
          inContext.length,
          `COPY ${path} (line ${source.line}) finds nothing in the build context`,
        ).toBeGreaterThan(0);
      }
    }
  });

  it('leaves secrets, dependencies, history and tests out of the build context', () => {
    for (const path of [
      '.env',
      '.env.local',
      'node_modules/x/index.js',
      '.git/config',
      'dist/src/cli.js',
      'test/cli/cli.test.ts',
    ]) {
      expect(isIgnored(path, dockerignore), path).toBe(true);
    }
    expect(isIgnored('src/cli.ts', dockerignore)).toBe(false);
  });
});

describe('the image health check', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  async function healthcheck(port: number): Promise<number> {
    const check = all('HEALTHCHECK').at(-1);
    expect(check?.args.startsWith('CMD')).toBe(true);
    const [command = '', ...args] = JSON.parse(check?.args.slice(3).trim() ?? '[]') as string[];
    expect(command).toBe('node');
    try {
      await promisify(execFile)(process.execPath, args, { env: { PORT: String(port) }, timeout: 20_000 });
      return 0;
    } catch (error) {
      return (error as { code: number }).code;
    }
  }

  it('passes when GET /healthz on PORT answers 200 and fails when it does not', async () => {
    const paths: string[] = [];
    let status = 200;
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end('ok');
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await healthcheck(port)).toBe(0);
    expect(paths).toEqual(['/healthz']);
    status = 503;
    expect(await healthcheck(port)).not.toBe(0);
    await new Promise((r) => server?.close(r));
    server = undefined;
    expect(await healthcheck(port)).not.toBe(0);
  });
});
