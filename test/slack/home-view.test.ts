import { describe, expect, it } from 'vitest';
import { awaitingLine, type HomeVm, homeView, vmLines } from '../../src/slack/blocks/home-view.js';
import { homeViewProblems } from '../support/fake-slack-checks.js';
import { runRecord } from '../support/run-record.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0);

function vm(name: string, over: Partial<HomeVm> = {}): HomeVm {
  return {
    vm: {
      vm: name,
      project: undefined,
      zone: undefined,
      channel: 'C0RUNS',
      requester: 'U0REQ',
      runId: `run-${name}`,
      messageTs: undefined,
      kind: 'upgrade',
      images: {},
      delegateName: undefined,
      tags: undefined,
      since: NOW - 3_600_000,
    },
    probe: undefined,
    mutedUntil: undefined,
    ...over,
  };
}

function waiting(n: number) {
  return Array.from({ length: n }, (_, i) =>
    runRecord(`run${i}`, { state: 'awaiting-approval', messageTs: '1700000000.000100' }),
  );
}

describe('homeView', () => {
  it('stays valid with 150 VMs and 40 waiting runs, counting what it leaves out', () => {
    const vms = Array.from({ length: 150 }, (_, i) => vm(`vm-${i}`));
    const view = homeView({ now: NOW, vms, awaiting: waiting(40) });
    expect(homeViewProblems(view)).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('…and 25 more waiting');
    expect(text).toContain('…and 100 more: `/gitspaces watch` in their channel');
  });

  it('says when nothing is watched and leaves the approvals out for others', () => {
    const view = homeView({ now: NOW, vms: [], awaiting: undefined });
    expect(homeViewProblems(view)).toEqual([]);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('No VM is watched yet');
    expect(text).not.toContain('approval');
  });

  it('shows an unlinked last run and no mute once the mute is over', () => {
    const lines = vmLines(vm('vm-1', { mutedUntil: NOW - 1 }), NOW);
    expect(lines).toContain('*vm-1* · :white_circle: not probed yet');
    expect(lines).toContain('last upgrade <!date^');
    expect(lines).toContain('in <#C0RUNS>');
    expect(lines).not.toContain('muted');
  });

  it("shows how full the disk of Docker's data was, with a warning from 90%", () => {
    const probed = (diskPercent: number): Partial<HomeVm> => ({
      probe: { at: NOW, health: 'healthy', problems: [], diskPercent },
    });
    expect(vmLines(vm('vm-1', probed(42)), NOW)).toContain('\ndisk 42% used · last upgrade');
    expect(vmLines(vm('vm-1', probed(93)), NOW)).toContain('\n:warning: disk 93% used · last upgrade');
    expect(vmLines(vm('vm-1'), NOW)).not.toContain('disk');
  });

  it("warns of the runner's errors of the hour before the probe, though the VM is healthy", () => {
    const probed = (runnerErrors?: number): Partial<HomeVm> => ({
      probe: { at: NOW, health: 'healthy', problems: [], ...(runnerErrors ? { runnerErrors } : {}) },
    });
    expect(vmLines(vm('vm-1', probed(3)), NOW)).toContain(
      '\n:warning: runner logged 3 errors in the hour before · last upgrade',
    );
    expect(vmLines(vm('vm-1', probed(1)), NOW)).toContain('runner logged an error in the hour before');
    expect(vmLines(vm('vm-1', probed()), NOW)).not.toContain('runner');
  });

  it('links a waiting run to its thread until its approval request is posted', () => {
    const run = runRecord('r1', { messageTs: '1700000000.000100' });
    expect(awaitingLine(run)).toContain(
      '<https://slack.com/archives/C0RUNS/p1700000000000100|approval request>',
    );
    expect(awaitingLine({ ...run, messageTs: undefined })).not.toContain('approval request');
  });
});
