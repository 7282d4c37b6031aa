/** The CLI's `main` in this process, with its terminal captured: what a person would read on stdout and stderr. */
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';

/** Streams for `main` that keep what it writes; `tty` makes stdin and stdout look like a terminal. */
export function capturedIo(tty = false) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = new PassThrough();
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  return { io: { stdin, stdout, stderr }, out: () => out.join(''), err: () => err.join('') };
}

/** Runs `gitspaces-bot <argv>` with `env` and no terminal. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv) {
  const t = capturedIo();
  const code = await main(argv, env, t.io);
  return { code, out: t.out(), err: t.err() };
}
