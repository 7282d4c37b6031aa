import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeExits, exitsScript, parseExits } from '../../src/setup/container-exits.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe("a container's exits of the last day, from Docker's events", () => {
  it('counts exits and out-of-memory kills per container, keeping the last exit code', () => {
    // The kernel may report one kill twice; an oom with no exit after it killed another process than the main one.
    const found = parseExits(
      `${A} die 0\n${A} oom \n${A} oom \n${A} die 137\n${B} oom \n${B} die 1\n${A} oom \n\n`,
    );
    expect(found[A]).toEqual({ count: 2, outOfMemory: 1, lastCode: 137 });
    expect(found[B]).toEqual({ count: 1, outOfMemory: 1, lastCode: 1 });
    expect(describeExits(found[A] as never)).toBe(
      'exited twice in the last 24 h, killed for lack of memory once; last exit code 137',
    );
    expect(describeExits(parseExits(`${B} die 1\n`)[B] as never)).toBe(
      'exited once in the last 24 h; last exit code 1',
    );
  });

  it('asks by container id, for one day, and never waits for new events', () => {
    const script = exitsScript([A, B]);
    expect(script).toContain(`'--filter' 'container=${A}' '--filter' 'container=${B}'`);
    expect(script).toContain("'--since' '24h'");
    expect(script).toMatch(/--until "\$u"$/);
  });

  it('asks up to now to the nanosecond, so that an exit in the current second counts', () => {
    // `docker` here prints the --until it was given.
    const until = (date: string) => {
      const docker = 'docker() { while [ "$1" != --until ]; do shift; done; echo "$2"; }';
      return execFileSync('sh', ['-c', `${date}\n${docker}\n${exitsScript([A])}`], {
        encoding: 'utf8',
      }).trim();
    };
    const before = Date.now() / 1000;
    const now = Number(until(''));
    expect(now).toBeGreaterThanOrEqual(Math.floor(before));
    expect(now % 1).not.toBe(0);
    // A date that knows no %N prints it as it is: whole seconds then.
    expect(until('date() { [ "$1" = +%s.%N ] && echo 1733400000.N || echo 1733400000; }')).toBe('1733400000');
  });
});
