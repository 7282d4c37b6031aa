/**
 * Reads back what the engine's shell quoting (src/setup/shell.ts) produces: words of single-quoted parts,
 * backslash escapes and plain characters. Anything with shell syntax outside quotes is not a plain argv.
 */
const QUOTED_WORD = String.raw`(?:'[^']*'|\\.|[^\s'\\;&|()<>])+`;

/** A regex source matching one quoted word, for the script shapes the engine sends. */
export const WORD = QUOTED_WORD;

/** The argv of a command made only of words, or undefined when it holds operators or redirections. */
export function splitWords(command: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < command.length) {
    while (command[i] === ' ') i++;
    if (i >= command.length) break;
    let word = '';
    while (i < command.length && command[i] !== ' ') {
      const c = command[i] as string;
      if (c === "'") {
        const end = command.indexOf("'", i + 1);
        if (end < 0) return undefined;
        word += command.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\') {
        word += command[i + 1] ?? '';
        i += 2;
      } else if (/[;&|()<>\n]/.test(c)) {
        return undefined;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

/** One quoted word back to its value. */
export function unquote(word: string): string {
  return splitWords(word)?.[0] ?? '';
}
