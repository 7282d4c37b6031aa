/** Docker's flag parsing as the CLI (cobra/pflag) does it: `--a=b`, `--a b`, `-a b`, `-dit`, and `--` to stop. */
import { CliError } from './errors.mjs';

/**
 * @param {string[]} args
 * @param {Record<string, 'bool' | 'value' | 'list'>} spec flags by every name (`-d`, `--detach`)
 * @param {Record<string, string>} aliases short → long names
 * @param {string} command for `See 'docker <command> --help'.`
 * @param {boolean} interspersed whether flags may follow positionals (false for run/exec: the rest is argv)
 */
export function parseFlags(args, spec, aliases, command, interspersed = true) {
  const flags = {};
  const positional = [];
  const usage = (message) => new CliError(`${message}\nSee 'docker ${command} --help'.`, 125);
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || (!interspersed && positional.length > 0)) {
      positional.push(arg);
      if (!interspersed) {
        positional.push(...args.slice(i + 1));
        break;
      }
      continue;
    }
    const names = [];
    let inline;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      names.push(eq < 0 ? arg : arg.slice(0, eq));
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else {
      // -dit: each letter a flag; the first taking a value takes the rest of the word.
      for (let j = 1; j < arg.length; j += 1) {
        const name = `-${arg[j]}`;
        names.push(name);
        if (spec[aliases[name] ?? name] !== 'bool' && j + 1 < arg.length) {
          inline = arg.slice(j + 1).replace(/^=/, '');
          break;
        }
      }
    }
    for (const raw of names) {
      const name = aliases[raw] ?? raw;
      const kind = spec[name];
      if (!kind)
        throw usage(
          raw.startsWith('--') ? `unknown flag: ${raw}` : `unknown shorthand flag: '${raw[1]}' in ${arg}`,
        );
      if (kind === 'bool') {
        flags[name] = inline === undefined || inline === 'true';
        continue;
      }
      let value = inline;
      if (value === undefined) {
        i += 1;
        if (i >= args.length) throw usage(`flag needs an argument: ${raw}`);
        value = args[i];
      }
      if (kind === 'list') flags[name] = [...(flags[name] ?? []), value];
      else flags[name] = value;
    }
  }
  return { flags, positional };
}

/** `2g`, `512m`, `1024` (bytes) → bytes, as `--memory` takes them. */
export function parseBytes(text) {
  const found = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(text);
  if (!found)
    throw new CliError(`invalid argument "${text}" for "-m, --memory" flag: invalid size: '${text}'`, 125);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[found[2].toLowerCase()];
  return Math.round(Number(found[1]) * unit);
}
