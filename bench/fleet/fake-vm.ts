/**
 * A VM as the engine sees it over SSH, in memory: files and Docker (fake-docker.ts), and answers to exactly
 * the commands the engine sends: argv commands, the scripts of vm-scripts.ts, either as they are (SSH user
 * root) or wrapped whole in `sudo -n sh -c '<script>'`, with stdin where the engine gives some (files it
 * writes arrive as base64 on stdin). Anything else answers `not found` and is kept in `unknown`, so a
 * benchmark can check that the emulation covered the whole run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type ExecOut, fail, ok } from './exec-out.js';
import { FakeDocker } from './fake-docker.js';
import { splitWords, unquote, WORD } from './shell-words.js';
import { SCRIPTS } from './vm-scripts.js';

export type { ExecOut } from './exec-out.js';

const SUDO = new RegExp(`^sudo -n sh -c (${WORD})$`);

export class FakeVm {
  readonly files = new Map<string, { data: Buffer; mode: number }>();
  readonly docker = new FakeDocker((path) => this.files.has(path));
  readonly unknown: string[] = [];
  commands = 0;

  reset(): void {
    this.files.clear();
    this.docker.reset();
    this.unknown.length = 0;
    this.commands = 0;
  }

  /** One exec request (or one command of the bot's shell session), as sshd would run it with `sh -c`. */
  exec(command: string, stdin = ''): ExecOut {
    this.commands += 1;
    return this.run(command, stdin);
  }

  run(command: string, stdin = ''): ExecOut {
    const sudo = SUDO.exec(command);
    if (sudo) return this.run(unquote(sudo[1] ?? ''), stdin);
    if (command === 'sudo -n true') return ok();
    for (const script of SCRIPTS) {
      const match = script.pattern.exec(command);
      const out = match && script.run(this, match, stdin);
      if (out) return out;
    }
    const argv = splitWords(command);
    if (argv === undefined) return this.notFound(command);
    return this.argv(argv, command);
  }

  /** `$(command)`: its stdout without trailing newlines. */
  capture(command: string): string {
    return this.run(command).stdout.replace(/\n+$/, '');
  }

  writeFile(path: string, data: Buffer, mode: number): void {
    this.files.set(path, { data, mode });
  }

  removeMatching(prefix: string): ExecOut {
    for (const path of this.files.keys()) if (path.startsWith(prefix)) this.files.delete(path);
    return ok();
  }

  hashes(script: string): ExecOut {
    const paths = [...script.matchAll(new RegExp(`sha256sum (${WORD}) 2>/dev/null`, 'g'))];
    const lines = paths.map((m) => {
      const file = this.files.get(unquote(m[1] ?? ''));
      return file ? createHash('sha256').update(file.data).digest('hex') : '-';
    });
    return ok(`${lines.join('\n')}\n`);
  }

  /** The runner's /healthz on 127.0.0.1:3000 answers (forwarded over SSH or asked with curl). */
  runnerAnswers(): boolean {
    return this.docker.runnerAnswers();
  }

  private notFound(command: string): ExecOut {
    this.unknown.push(command);
    return fail(127, `sh: 1: ${command.split(' ')[0]}: not found\n`);
  }

  private argv(argv: string[], command: string): ExecOut {
    const [program, ...args] = argv;
    switch (program) {
      case 'true':
        return ok();
      case 'mktemp': {
        const template = args[0] ?? '/tmp/tmp.XXXXXXXXXX';
        const path = template.replace(/X+$/, (x) =>
          randomBytes(x.length).toString('base64url').slice(0, x.length),
        );
        this.files.set(path, { data: Buffer.alloc(0), mode: 0o600 });
        return ok(`${path}\n`);
      }
      case 'rm':
        for (const path of args.filter((a) => !a.startsWith('-'))) this.files.delete(path);
        return ok();
      case 'cat': {
        const file = this.files.get(args[0] ?? '');
        return file
          ? ok(file.data.toString('utf8'))
          : fail(1, `cat: ${args[0]}: No such file or directory\n`);
      }
      case 'docker':
        return this.docker.run(args) ?? this.notFound(command);
      default:
        return this.notFound(command);
    }
  }
}
