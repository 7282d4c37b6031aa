/** `gitspaces-bot <args>` from this checkout's sources, as a process of its own (for gcp-no-credentials). */
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
