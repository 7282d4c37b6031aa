import type { Check, VmStep } from './step.js';

export const networkStep: VmStep = {
  id: 'network',
  async check(ctx): Promise<Check> {
    const net = ctx.settings.dockerNetwork;
    const found = await ctx.vm.run(['docker', 'network', 'inspect', net, '--format', '{{.Name}}'], {
      root: true,
      allowFail: true,
    });
    return found.code === 0
      ? { ok: true, summary: `network ${net} exists` }
      : { ok: false, summary: `network ${net} is missing` };
  },
  async apply(ctx): Promise<string> {
    await ctx.vm.run(['docker', 'network', 'create', ctx.settings.dockerNetwork], { root: true });
    return `created network ${ctx.settings.dockerNetwork}`;
  },
};
