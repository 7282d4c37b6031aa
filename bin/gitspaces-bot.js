#!/usr/bin/env node
// Entry point of the published binary: the compiled CLI (built by `npm run build`, run by `prepare` on `npm ci`).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Everything was closed; a handle a library forgot must not keep a stopped bot alive (a service manager
  // waiting for it to go). Unref'd: a process already exiting is not held up by it.
  setTimeout(() => process.exit(code), 1000).unref();
});
