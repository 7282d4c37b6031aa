import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/slack/commands/parse-command.js';

const defaults = { project: 'my-project', zone: 'us-central1-a' };
const vm1 = { project: 'my-project', zone: 'us-central1-a', name: 'vm-1' };

describe('/gitspaces logs', () => {
  it('reads the VM, the container and the line count, 100 lines when none is given', () => {
    expect(parseCommand('logs vm-1 runner', defaults)).toEqual({
      kind: 'logs',
      vm: vm1,
      container: 'runner',
      lines: 100,
    });
    expect(parseCommand('logs europe-west1-b/vm-1 Delegate 5000', defaults)).toEqual({
      kind: 'logs',
      vm: { ...vm1, zone: 'europe-west1-b' },
      container: 'delegate',
      lines: 5000,
    });
  });

  it('says how to fix a bad count, a wrong container word, a missing word or a bad VM name', () => {
    const problem = (text: string) => {
      const parsed = parseCommand(text, defaults);
      return parsed.kind === 'invalid' ? parsed.problem : `parsed as ${parsed.kind}`;
    };
    for (const count of ['0', '6000', 'abc', '-1', '2.5'])
      expect(problem(`logs vm-1 runner ${count}`)).toContain(
        `\`${count}\` is not a line count: give a whole number from 1 to 5000`,
      );
    expect(problem('logs vm-1 web')).toContain('`web` is not a container: use `runner` or `delegate`');
    expect(problem('logs vm-1')).toContain('e.g. `/gitspaces logs gitspaces-runner delegate 200`');
    expect(problem('logs vm-1 runner 10 more')).toContain('`/gitspaces logs` takes a VM');
    expect(problem('logs VM_1 runner')).toMatch(/lowercase/i);
  });
});
