import { IMAGE_LABEL, previousName, RUNNER_NAME } from '../container-specs.js';
import { parseContainer } from '../container-state.js';
import type { SetupSettings } from '../settings.js';
import { command } from '../shell.js';
import type { StepContext } from '../steps/step.js';

/** What an upgrade asks for: whole image references (bare tags already resolved), either may be absent. */
export interface UpgradeImages {
  runner?: string | undefined;
  delegate?: string | undefined;
}

/**
 * The image an earlier upgrade chose for a container, from its label; the kept `<name>-previous` counts
 * too (a run interrupted mid-replacement has only that one).
 */
async function labelledImage(ctx: Pick<StepContext, 'vm'>, name: string): Promise<string | undefined> {
  const format = `{"status":"x","labels":{{json .Config.Labels}}}`;
  const inspect = (n: string) =>
    `${command('docker', 'inspect', '--type', 'container', '--format', format, n)} 2>/dev/null`;
  const result = await ctx.vm.script(
    `${inspect(name)} || ${inspect(previousName(name))} || true`,
    { root: true, allowFail: true },
    `docker inspect ${name}`,
  );
  const found = parseContainer(result.stdout.trim().split('\n')[0] ?? '');
  const image = found?.labels?.[IMAGE_LABEL];
  return image === undefined || image === '' ? undefined : image;
}

/**
 * The images this run installs. An upgrade's given images win (all configured ones when it names none);
 * otherwise a container keeps what an earlier upgrade chose, so that `setup` does not undo an upgrade.
 */
export async function chooseImages(
  ctx: Pick<StepContext, 'vm' | 'settings'>,
  upgrade: UpgradeImages | undefined,
): Promise<SetupSettings> {
  const s = ctx.settings;
  const all = upgrade !== undefined && upgrade.runner === undefined && upgrade.delegate === undefined;
  const pick = async (given: string | undefined, configured: string, name: string) => {
    if (given !== undefined) return { image: given, pinned: true };
    if (all) return { image: configured, pinned: true };
    const labelled = await labelledImage(ctx, name);
    return labelled === undefined ? { image: configured, pinned: false } : { image: labelled, pinned: true };
  };
  const runner = await pick(upgrade?.runner, s.runnerImage, RUNNER_NAME);
  const delegate = await pick(upgrade?.delegate, s.delegateImage, s.delegateName);
  return {
    ...s,
    runnerImage: runner.image,
    delegateImage: delegate.image,
    pinnedImages: { runner: runner.pinned, delegate: delegate.pinned },
  };
}
