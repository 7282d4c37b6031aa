/**
 * Child process for gcp-lazy-clients.test.ts: loads what `gitspaces-bot worker` loads, reads a secret and
 * locates a VM through the configured API URLs, then prints which Google client packages Node loaded.
 */
import { createRequire } from 'node:module';
import { loadConfig } from '../../src/config.js';
import { closeGoogleClients } from '../../src/gcp/clients.js';
import { createComputeLocator } from '../../src/gcp/compute.js';
import { createSecretManagerSource } from '../../src/gcp/secrets.js';

await import('../../src/serve.js');
const config = loadConfig(process.env, { dotEnv: false });
const secret = await createSecretManagerSource(config).read('pool');
const vm = await createComputeLocator(config).locate(
  { project: undefined, zone: undefined, name: 'runner-1' },
  { address: 'internal', hostKeys: true },
);
await closeGoogleClients();
const loaded = Object.keys(createRequire(import.meta.url).cache)
  .map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1])
  .filter((name): name is string => name !== undefined);
process.stdout.write(
  `${JSON.stringify({ secret: secret.toString(), address: vm.address, hostKeys: vm.hostKeys.length, packages: [...new Set(loaded)] })}\n`,
);
