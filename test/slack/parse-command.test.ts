import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/slack/commands/parse-command.js';

const defaults = { project: 'my-project', zone: 'us-central1-a' };

describe('parseCommand', () => {
  it('starts one run per VM and fills project and zone from the configuration', () => {
    expect(parseCommand('setup vm-1 vm-2', defaults)).toEqual({
      kind: 'setup',
      vms: [
        { project: 'my-project', zone: 'us-central1-a', name: 'vm-1' },
        { project: 'my-project', zone: 'us-central1-a', name: 'vm-2' },
      ],
    });
  });

  it('understands zone/vm and project/zone/vm, commas and repeated VMs', () => {
    expect(
      parseCommand('setup  europe-west1-b/vm-a, other-proj/asia-east1-c/vm-b vm-c vm-c', defaults),
    ).toEqual({
      kind: 'setup',
      vms: [
        { project: 'my-project', zone: 'europe-west1-b', name: 'vm-a' },
        { project: 'other-proj', zone: 'asia-east1-c', name: 'vm-b' },
        { project: 'my-project', zone: 'us-central1-a', name: 'vm-c' },
      ],
    });
  });

  it('starts nothing when one of several VMs is invalid and names the bad one', () => {
    const command = parseCommand('setup vm-1 Bad_VM vm-3', defaults);
    expect(command.kind).toBe('invalid');
    expect(command.kind === 'invalid' && command.problem).toContain('Bad_VM');
    expect(command.kind === 'invalid' && command.problem).toContain('Nothing was started');
  });

  it('refuses shell metacharacters in a VM name', () => {
    for (const text of ['setup vm;rm', 'setup $(id)', 'setup vm`x`', 'plan a/b/c/d']) {
      expect(parseCommand(text, defaults).kind).toBe('invalid');
    }
  });

  it('opens the modal for a bare setup', () => {
    expect(parseCommand('setup', defaults)).toEqual({ kind: 'setup-modal' });
  });

  it('reads status with and without a VM', () => {
    expect(parseCommand('status', defaults)).toEqual({ kind: 'status', vm: undefined });
    expect(parseCommand('STATUS vm-1', defaults)).toMatchObject({ kind: 'status', vm: { name: 'vm-1' } });
  });

  it('needs exactly one VM for plan and cancel', () => {
    expect(parseCommand('plan vm-1', defaults)).toMatchObject({ kind: 'plan', vm: { name: 'vm-1' } });
    expect(parseCommand('cancel vm-1', defaults)).toMatchObject({ kind: 'cancel', vm: { name: 'vm-1' } });
    expect(parseCommand('plan', defaults).kind).toBe('invalid');
    expect(parseCommand('cancel vm-1 vm-2', defaults).kind).toBe('invalid');
  });

  it('answers help for nothing or help, and an explanation for anything unknown', () => {
    expect(parseCommand('', defaults)).toEqual({ kind: 'help' });
    expect(parseCommand('help', defaults)).toEqual({ kind: 'help' });
    const unknown = parseCommand('deploy vm-1', defaults);
    expect(unknown).toEqual({ kind: 'invalid', problem: '`deploy` is not a Gitspaces command.' });
  });
});
