/**
 * Brings emulated VMs to "set up" the way the bot does: the product's engine, its Google adapters (here
 * against the fake APIs) and SSH, one run per VM, `concurrency` at once, every approval granted at once.
 */
import { createEngineDeps, runInputFor, settingsFor } from '../../src/compose.js';
import type { Config } from '../../src/config.js';
import { runSetup } from '../../src/setup/engine.js';
import { memoryJournal } from '../../src/setup/memory-journal.js';
import { silentReporter, targetOf } from '../../src/vm-actions.js';

/** Runs setup on every VM; resolves with the VMs whose run did not succeed (and why). */
export async function setUpFleet(
  config: Config,
  vms: string[],
  concurrency: number,
): Promise<Array<{ vm: string; why: string }>> {
  const failed: Array<{ vm: string; why: string }> = [];
  const queue = [...vms];
  const one = async (vm: string) => {
    const deps = createEngineDeps(config, {
      reporter: silentReporter,
      gate: { decide: async () => ({ kind: 'approved', by: 'U0APP', at: Date.now() }) },
      journal: memoryJournal(),
    });
    const target = targetOf({ vm, project: config.gcp.project, zone: config.gcp.zone });
    const input = runInputFor(config, `watch-setup-${vm}`, 'setup', target, settingsFor(config, vm));
    const result = await runSetup(input, deps).catch((error: unknown) => ({
      state: 'failed',
      error: { message: String(error) },
    }));
    if (result.state !== 'succeeded') failed.push({ vm, why: result.error?.message ?? result.state });
  };
  const lane = async () => {
    for (let vm = queue.shift(); vm !== undefined; vm = queue.shift()) await one(vm);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return failed;
}
