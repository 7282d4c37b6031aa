#!/usr/bin/env node
// Entry point of the published binary: the compiled CLI (built by `npm run build`, run by `prepare` on `npm ci`).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
