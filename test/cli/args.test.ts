/** The terminal's arguments: what each command reads from them, and how a mistake is told. */
import { describe, expect, it } from 'vitest';
import { parseTargetArgs } from '../../src/cli/args.js';
import { parseLogsArgs } from '../../src/cli/logs-args.js';

const refusal = (parse: () => unknown): string => {
  try {
    parse();
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? '';
  }
  throw new Error('accepted');
};

/** Each argv is refused with the first line of its message as given. */
function expectRefusals(parse: (argv: string[]) => unknown, cases: Array<[string[], string]>): void {
  for (const [argv, message] of cases)
    expect(
      refusal(() => parse(argv)),
      argv.join(' '),
    ).toBe(message);
}

describe('setup, plan, status and upgrade', () => {
  it('reads a VM by name, or an address with its SSH options', () => {
    expect(parseTargetArgs(['vm-1', '--yes'])).toMatchObject({ vm: 'vm-1', host: undefined, yes: true });
    expect(
      parseTargetArgs([
        '--host',
        '10.0.0.5',
        '--port=2222',
        '--user',
        'gs',
        '--known-hosts',
        'kh',
        '--name',
        'vm-9',
        '-y',
      ]),
    ).toEqual({
      vm: undefined,
      host: '10.0.0.5',
      port: 2222,
      user: 'gs',
      knownHosts: 'kh',
      name: 'vm-9',
      yes: true,
    });
    expect(parseTargetArgs(['vm-1', '--delegate', '25.04.1'])).toMatchObject({
      vm: 'vm-1',
      delegate: '25.04.1',
      yes: false,
    });
  });

  it('says what is wrong with each mistake', () => {
    const cases: Array<[string[], string]> = [
      [[], 'Which VM? Give its name or --host <address>.'],
      [['vm-1', 'vm-2'], 'One VM at a time in the terminal (got vm-1 and vm-2).'],
      [['vm-1', '--host', '10.0.0.5'], 'Give a VM name or --host, not both.'],
      [['--host'], '--host needs a value.'],
      [['--host='], '--host needs a value.'],
      [['--host', '--port', '22'], '--host needs a value.'],
      [['--host', 'a b'], '--host a b is not a host name or address.'],
      [['vm-1', '--port', '70000'], '--port 70000 is not a port number.'],
      [['vm-1', '--bogus'], 'Unknown option --bogus.'],
      [['vm-1', '--yes=1'], '--yes takes no value.'],
      [['vm-1', '--lines', '5'], 'Unknown option --lines.'],
    ];
    expectRefusals(parseTargetArgs, cases);
  });
});

describe('logs', () => {
  it('reads the container as the last word, and the line count', () => {
    expect(parseLogsArgs(['vm-1', 'delegate', '--lines', '200'])).toMatchObject({
      target: { vm: 'vm-1' },
      container: 'delegate',
      lines: 200,
    });
    expect(parseLogsArgs(['--host', '10.0.0.5', 'Runner'])).toMatchObject({
      target: { host: '10.0.0.5', vm: undefined },
      container: 'runner',
      lines: 100,
    });
  });

  it('says what is wrong with each mistake', () => {
    const cases: Array<[string[], string]> = [
      [
        ['vm-1'],
        'Which container? End with runner or delegate, e.g. gitspaces-bot logs my-vm delegate --lines 200 (got vm-1).',
      ],
      [
        ['vm-1', 'runner', '--lines', '0'],
        '--lines 0 is not a line count: give a whole number from 1 to 5000 (default 100).',
      ],
      [['vm-1', 'runner', '--yes'], '--delegate, --runner and --yes do not apply to logs.'],
      [['vm-1', 'vm-2', 'runner'], 'One VM at a time in the terminal (got vm-1 and vm-2).'],
    ];
    expectRefusals(parseLogsArgs, cases);
  });
});
