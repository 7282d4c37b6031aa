/**
 * The scripts the engine sends besides plain argv commands (src/setup: container-state.ts's observe script,
 * steps/pool-file.ts, steps/delegate.ts, health-probes.ts, image-pull.ts, change/), recognised by shape and
 * answered from the VM's state as `sh` would run them. Each pattern follows the script's text exactly: a
 * changed script no longer matches, answers `not found` and shows up in the VM's `unknown`.
 */
import { REFUSAL_PATTERN } from '../../src/setup/token-refusal.js';
import { type ExecOut, ok } from './exec-out.js';
import { unquote, WORD } from './shell-words.js';

/** What the scripts need of the emulated VM (fake-vm.ts): its files and its commands. */
export interface ScriptVm {
  readonly files: Map<string, { data: Buffer; mode: number }>;
  run(command: string, stdin?: string): ExecOut;
  capture(command: string): string;
  removeMatching(prefix: string): ExecOut;
  hashes(script: string): ExecOut;
}

interface Script {
  pattern: RegExp;
  run(vm: ScriptVm, m: RegExpExecArray, stdin: string): ExecOut | undefined;
}

const W = `(${WORD})`;
const raw = String.raw;
const REFUSAL = new RegExp(REFUSAL_PATTERN);
const OBSERVE = raw`c="\$\((.+?) 2>/dev/null\)"; printf '%s\\n' "\$c"; if \[ -n "\$c" \]; then printf '%s\\n' "\$\((.+?) 2>/dev/null\)"; else echo; fi; printf '%s\\n' "\$\((.+?) 2>/dev/null\)"`;
const ALSO = raw`\{ (.+); \} >/dev/null 2>&1`;
const word = (m: RegExpExecArray, i: number) => unquote(m[i] ?? '');

/** Container, network and image of one observe script, three lines. */
function observeOne(vm: ScriptVm, m: RegExpMatchArray): string {
  const container = vm.capture(m[1] ?? '');
  const network = container === '' ? '' : vm.capture(m[2] ?? '');
  return `${container}\n${network}\n${vm.capture(m[3] ?? '')}\n`;
}

/** One observe script per container, then maybe `{ <also>; } >/dev/null 2>&1`; undefined for anything else. */
function observe(vm: ScriptVm, script: string): ExecOut | undefined {
  const parts = [...script.matchAll(new RegExp(OBSERVE, 'g'))];
  const also = new RegExp(`; ${ALSO}$`).exec(script);
  const rest = parts.reduce((text, part) => text.replace(part[0], ''), script.replace(also?.[0] ?? '', ''));
  if (rest.replaceAll('; ', '') !== '') return undefined;
  if (also) vm.run(also[1] ?? '');
  return ok(parts.map((part) => observeOne(vm, part)).join(''));
}

function placeFile(vm: ScriptVm, m: RegExpExecArray, stdin: string): ExecOut {
  if (m[2] !== undefined && vm.files.has(word(m, 2)) && !vm.files.has(word(m, 3)))
    vm.files.set(word(m, 3), vm.files.get(word(m, 2)) as { data: Buffer; mode: number });
  vm.files.set(word(m, 4), { data: Buffer.from(stdin, 'base64'), mode: 0o600 });
  return ok();
}

function runDelegate(vm: ScriptVm, m: RegExpExecArray, stdin: string): ExecOut {
  vm.removeMatching(word(m, 1));
  const path = `${word(m, 2).replace(/X+$/, '')}${Math.random().toString(36).slice(2, 10)}`;
  vm.files.set(path, { data: Buffer.from(stdin, 'base64'), mode: 0o600 });
  const out = vm.run((m[3] ?? '').replace('"$f"', path));
  vm.files.delete(path);
  return out;
}

function delegateHealth(vm: ScriptVm, m: RegExpExecArray): ExecOut {
  if (vm.run(m[1] ?? '').code === 0) {
    // The emulated engine keeps no log files: the script reads the log through `docker logs`.
    const logs = vm.run(`docker logs ${m[3]}`);
    const refusal = `${logs.stdout}${logs.stderr}`.split('\n').find((line) => REFUSAL.test(line));
    return ok(`${refusal === undefined ? '' : `${refusal}\n`}gitspaces-bot: healthy\n`);
  }
  const started = vm.run(m[4] ?? '');
  if (started.code !== 0) return { ...started, code: 1 };
  const logs = vm.run(`docker logs --tail 200 ${m[5]}`);
  return ok(logs.stdout + logs.stderr);
}

/** The runner's error lines of the last hour, counted, and the last one (src/setup/runner-errors.ts). */
function runnerErrors(vm: ScriptVm, m: RegExpExecArray): ExecOut {
  const logs = vm.run(m[1] ?? '');
  const pattern = new RegExp(unquote(m[2] ?? ''));
  const errors = `${logs.stdout}${logs.stderr}`.split('\n').filter((line) => pattern.test(line));
  return ok(errors.length === 0 ? '' : `${errors.length}\n${errors.at(-1)}\n`);
}

/** The kept container removed, then its image unless something still uses it (change/replace-container.ts). */
function dropPrevious(vm: ScriptVm, m: RegExpExecArray): ExecOut {
  if (m[1] !== undefined) vm.run(m[1]);
  const found = vm.run(m[2] ?? '');
  if (found.code !== 0) return ok();
  const image = vm.capture(m[3] ?? '');
  const removed = vm.run(m[4] ?? '');
  if (removed.code !== 0) return removed;
  const size = vm.run(`docker image inspect --format {{.Size}} ${image}`);
  const freed = size.code === 0 && vm.run(`docker image rm ${image}`).code === 0 ? size.stdout : '';
  return ok(found.stdout + freed);
}

/**
 * Docker's version and data root, systemd's word on Docker at boot, then df's line for the data root
 * (setup/docker-info.ts): Docker enabled at boot, on a 10 GB disk 40% used.
 */
function dockerInfo(vm: ScriptVm): ExecOut {
  const info = vm.run("docker info --format '{{.ServerVersion}} {{.NCPU}} {{.MemTotal}} {{.DockerRootDir}}'");
  if (info.code !== 0) return { ...info, code: 1 };
  return ok(`${info.stdout}enabled\n/dev/sda1 10255636 4102254 6153382 40% /\n`);
}

export const SCRIPTS: Script[] = [
  { pattern: /^c="\$\(/, run: (vm, m) => observe(vm, m.input) },
  {
    pattern: new RegExp(
      raw`^set -e\nmkdir -p ${W}\n(?:if \[ -f ${W} \] && \[ ! -f ${W} \]; then cp -p ${WORD} ${WORD}; fi\n)?t=\$\(mktemp ${WORD}\)\ntrap 'rm -f "\$t"' EXIT\nbase64 -d >"\$t"\ninstall -m 0600 "\$t" ${W}$`,
    ),
    run: placeFile,
  },
  {
    pattern: new RegExp(
      raw`^rm -f ${W}\*\nf=\$\(mktemp ${W}\) \|\| exit 1\nbase64 -d >"\$f" \|\| \{ rm -f "\$f"; exit 1; \}\n(.+); rc=\$\?\nrm -f "\$f"; exit \$rc$`,
    ),
    run: runDelegate,
  },
  {
    pattern: new RegExp(
      raw`^(.+) >/dev/null 2>&1 && answers=1\n\[ -n "\$answers" \] && \{ f=\$\((.+)\); if \[ -n "\$f" \] && \[ -f "\$f" \]; then grep -h -m 1 -E ${WORD} "\$f" "\$f"\.\[0-9\]\* 2>/dev/null; else docker logs ${W} 2>&1 \| grep -E -m 1 ${WORD}; fi; echo 'gitspaces-bot: healthy'; exit 0; \}\nstarted=\$\((.+)\) \|\| exit 1\ndocker logs --tail 200 --since "\$started" ${W} 2>&1$`,
    ),
    run: delegateHealth,
  },
  {
    pattern: new RegExp(
      raw`^(?:(.+)\n)?c=\$\((.+) 2>/dev/null\) \|\| exit 0\ni=\$\((.+)\)\n(.+) >/dev/null\nprintf '%s\\n' "\$c"\ns=\$\(docker image inspect --format '\{\{\.Size\}\}' "\$i" 2>/dev/null\) && docker image rm "\$i" >/dev/null 2>&1 && printf '%s\\n' "\$s"\nexit 0$`,
    ),
    run: dropPrevious,
  },
  { pattern: /^i=\$\(docker info --format /, run: (vm) => dockerInfo(vm) },
  { pattern: new RegExp(raw`^(.+) 2>&1 \| grep -E (${WORD}) \| awk ${WORD}$`), run: runnerErrors },
  {
    // `docker pull` and the image's size in one command (src/setup/image-pull.ts).
    pattern: /^(.+) \|\| exit \$\?; (.+) 2>\/dev\/null \|\| true$/,
    run: (vm, m) => {
      const pulled = vm.run(m[1] ?? '');
      if (pulled.code !== 0) return pulled;
      return ok(pulled.stdout + vm.run(m[2] ?? '').stdout);
    },
  },
  { pattern: /^(.+) 2>\/dev\/null \|\| true$/, run: (vm, m) => ok(vm.run(m[1] ?? '').stdout) },
  {
    pattern: /^(.+) 2>&1$/,
    run: (vm, m) => {
      const out = vm.run(m[1] ?? '');
      return { code: out.code, stdout: out.stdout + out.stderr, stderr: '' };
    },
  },
  { pattern: new RegExp(raw`^rm -f ${W}\*$`), run: (vm, m) => vm.removeMatching(word(m, 1)) },
  {
    pattern: new RegExp(raw`^if \[ -f ${W} \]; then mv -f ${WORD} ${W}; fi$`),
    run: (vm, m) => {
      const kept = vm.files.get(word(m, 1));
      if (kept) vm.files.set(word(m, 2), kept);
      vm.files.delete(word(m, 1));
      return ok();
    },
  },
  { pattern: /^\. \/etc\/os-release 2>\/dev\/null && echo "\$ID"$/, run: () => ok('debian\n') },
  { pattern: /^command -v docker$/, run: () => ok('/usr/bin/docker\n') },
  {
    pattern: new RegExp(raw`^\(sha256sum ${WORD} 2>/dev/null \|\| echo -\) \| cut -d' ' -f1`),
    run: (vm, m) => vm.hashes(m.input),
  },
];
