/**
 * Child process for gcp-lazy-clients.test.ts: loads what `gitspaces-bot worker` loads, notes which packages
 * Node loaded, warms Google's clients as a worker does when it starts (WARM=1), reads a secret and locates a
 * VM through the configured API URLs, then prints the packages loaded before and after the warm-up and the
 * calls.
 */
import { createRequire } from 'node:module';
import { loadConfig } from '../../src/config.js';
import { closeGoogleClients, warmGoogleClients } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import { createSecretManagerSource } from '../../src/gcp/secrets.js';

const files = () => Object.keys(createRequire(import.meta.url).cache);
const packages = () => [
  ...new Set(
    files()
      .map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1])
      .filter((name): name is string => name !== undefined),
  ),
];
await import('../../src/serve.js');
const before = packages();
const config = loadConfig(process.env, { dotEnv: false });
if (process.env.WARM === '1') await warmGoogleClients(config);
const warmed = packages();
const secret = await createSecretManagerSource(config).read('pool');
const vm = await createComputeLocator(config).locate(
  { project: undefined, zone: undefined, name: 'runner-1' },
  { address: 'internal', hostKeys: true },
);
await closeGoogleClients();
process.stdout.write(
  `${JSON.stringify({ secret: secret.toString(), address: vm.address, hostKeys: vm.hostKeys.length, before, warmed, after: packages(), compute: files().flatMap((f) => /@google-cloud\/compute\/(.*)$/.exec(f)?.[1] ?? []) })}\n`,
);
