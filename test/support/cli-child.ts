// `gitspaces-bot` from the sources, as a process of its own (a test may SIGKILL it).
import { main } from '../../src/cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
