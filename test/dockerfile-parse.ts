/**
 * Enough of the Dockerfile and .dockerignore formats to check the image's recipe without a Docker engine:
 * https://docs.docker.com/reference/dockerfile/ and https://docs.docker.com/build/concepts/context/#dockerignore-files
 */

export interface Instruction {
  keyword: string;
  /** `--name=value` options before the arguments (`--from=build`, `--interval=30s`). */
  flags: Record<string, string>;
  /** The arguments after the flags, continuation lines joined. */
  args: string;
  /** The arguments in exec form (`["node", "x"]`), when written that way. */
  exec: string[] | undefined;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function execForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function instruction(text: string, line: number): Instruction {
  const [keyword = '', ...rest] = text.split(/\s+/);
  let args = text.slice(keyword.length).trim();
  const flags: Record<string, string> = {};
  for (const token of rest) {
    const flag = /^--([a-z-]+)=(.*)$/.exec(token);
    if (!flag) break;
    flags[flag[1] as string] = flag[2] as string;
    args = args.slice(token.length).trim();
  }
  return { keyword: keyword.toUpperCase(), flags, args, exec: execForm(args), line };
}

/** The stages of a Dockerfile, each with its instructions (FROM excluded). */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = (lines[i] as string).trim();
    if (logical === '' || logical.startsWith('#')) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = `${logical.slice(0, -1).trim()} ${(lines[++i] as string).trim()}`;
    }
    const ins = instruction(logical, start + 1);
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = ins.args.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return stages;
}

/** `ENV A=b C="d e"` or `ENV A b` as pairs. */
export function envPairs(args: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [name = '', ...value] = args.split(/\s+/);
    return [[name, value.join(' ')]];
  }
  for (const match of args.matchAll(re)) {
    pairs.push([match[1] as string, (match[2] as string).replace(/^["']|["']$/g, '')]);
  }
  return pairs;
}

function patternRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether `.dockerignore` leaves `path` out of the build context (last matching rule wins; a directory rule covers its contents). */
export function isIgnored(path: string, dockerignore: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({
      negate: l.startsWith('!'),
      re: patternRegex(l.replace(/^!/, '').replace(/^\/+|\/+$/g, '')),
    }));
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negate;
  }
  return ignored;
}

/** Sources and destination of a COPY: `COPY a b ./` or `COPY ["a", "b", "./"]`. */
export function copyParts(ins: Instruction): { sources: string[]; dest: string } {
  const parts = ins.exec ?? ins.args.split(/\s+/);
  return { sources: parts.slice(0, -1), dest: parts.at(-1) ?? '' };
}
