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

const FORMAT = `{"name":{{json .Name}},"status":"x","labels":{{json .Config.Labels}}}`;

/**
 * The images earlier upgrades chose for the containers, from their labels, by container name; a kept
 * `<name>-previous` counts too (a run interrupted mid-replacement has only that one). One docker call for
 * all of them: names it does not find it only mentions on stderr.
 */
async function labelledImages(ctx: Pick<StepContext, 'vm'>, names: string[]): Promise<Map<string, string>> {
  const all = names.flatMap((name) => [name, previousName(name)]);
  const result = await ctx.vm.script(
    `${command('docker', 'inspect', '--type', 'container', '--format', FORMAT, ...all)} 2>/dev/null || true`,
    { root: true, allowFail: true },
    `docker inspect ${names.join(' ')}`,
  );
  const found = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const name = (/^\{"name":"\/?([^"]*)"/.exec(line.trim()) ?? [])[1];
    const image = parseContainer(line.trim())?.labels?.[IMAGE_LABEL];
    if (name !== undefined && image !== undefined && image !== '') found.set(name, image);
  }
  return found;
}

/** A container's own label first, then its kept predecessor's. */
const labelOf = (found: Map<string, string>, name: string) =>
  found.get(name) ?? found.get(previousName(name));

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
  const asked = [
    ...(upgrade?.runner === undefined && !all ? [RUNNER_NAME] : []),
    ...(upgrade?.delegate === undefined && !all ? [s.delegateName] : []),
  ];
  const labels = asked.length > 0 ? await labelledImages(ctx, asked) : new Map<string, string>();
  const pick = (given: string | undefined, configured: string, name: string) => {
    if (given !== undefined) return { image: given, pinned: true };
    if (all) return { image: configured, pinned: true };
    const labelled = labelOf(labels, name);
    return labelled === undefined ? { image: configured, pinned: false } : { image: labelled, pinned: true };
  };
  const runner = pick(upgrade?.runner, s.runnerImage, RUNNER_NAME);
  const delegate = pick(upgrade?.delegate, s.delegateImage, s.delegateName);
  return {
    ...s,
    runnerImage: runner.image,
    delegateImage: delegate.image,
    pinnedImages: { runner: runner.pinned, delegate: delegate.pinned },
  };
}
