/**
 * The connect step's handling of a refused key: when it asks for the key to be let in, how long it waits
 * for the VM's guest agent, and what it says when that never happens.
 */
import { describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { LET_IN_WAIT_MS, type LetInContext, openLettingIn } from '../../src/setup/let-key-in.js';
import type { KeyAccess } from '../../src/setup/ports.js';
import type { Preflight } from '../../src/setup/preflight.js';
import { manualClock } from '../support/fake-google.js';

const refused = () =>
  new GitspacesError('SSH_AUTH_FAILED', 'SSH login as gitspaces to 10.0.0.2:22 was refused.');

/** A VM that refuses the first `refusals` logins. */
function vm(refusals: number) {
  let tries = 0;
  return {
    tries: () => tries,
    open: async () => {
      tries += 1;
      if (tries <= refusals) throw refused();
    },
  };
}

function context(overrides: Partial<LetInContext> = {}) {
  const clock = manualClock();
  const said: string[] = [];
  const asked: string[] = [];
  const keys: KeyAccess = {
    letIn: async (where, user) => {
      asked.push(`${where.project}/${where.zone}/${where.name} ${user}`);
      return 'added';
    },
  };
  const pre = {
    vm: { name: 'runner-1', zone: 'us-central1-a', project: 'acme' },
    privateKey: Buffer.from('key'),
  } as Preflight;
  const ctx: LetInContext = {
    keys,
    mode: 'setup',
    pre,
    user: 'gitspaces',
    clock,
    signal: undefined,
    say: async (text) => void said.push(text),
    ...overrides,
  };
  return { ctx, clock, said, asked };
}

async function failure(promise: Promise<unknown>): Promise<GitspacesError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitspacesError);
  return error as GitspacesError;
}

describe('a refused key in the connect step', () => {
  it('is let in once, then the login is tried again until the guest agent has applied it', async () => {
    const { ctx, clock, said, asked } = context();
    const host = vm(3);
    const started = clock.now();
    expect(await openLettingIn(host.open, ctx)).toBe('key added to its ssh-keys metadata for gitspaces');
    expect(asked).toEqual(['acme/us-central1-a/runner-1 gitspaces']);
    expect(host.tries()).toBe(4);
    expect(said).toEqual([
      "The VM refused the bot's key for gitspaces: added it to the VM's ssh-keys metadata, waiting for its guest agent to let it in.",
    ]);
    expect(clock.now() - started).toBe(6_000);
  });

  it('changes nothing when the VM lets the key in at once', async () => {
    const { ctx, asked } = context();
    expect(await openLettingIn(vm(0).open, ctx)).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('says nothing changed when the metadata held the key already', async () => {
    const { ctx, said } = context({ keys: { letIn: async () => 'present' } });
    expect(await openLettingIn(vm(1).open, ctx)).toBeUndefined();
    expect(said[0]).toContain('which its ssh-keys metadata holds');
  });

  it('gives up after a minute, naming the guest agent', async () => {
    const { ctx, clock } = context();
    const host = vm(Number.POSITIVE_INFINITY);
    const started = clock.now();
    const error = await failure(openLettingIn(host.open, ctx));
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain(
      "VM runner-1 still refuses the bot's key for gitspaces 60 s after it was added to its ssh-keys metadata",
    );
    expect(error.message).toContain('systemctl status google-guest-agent');
    expect(clock.now() - started).toBe(LET_IN_WAIT_MS);
  });

  it('lets nothing in for a plan, and says that setup would', async () => {
    const { ctx, asked } = context({ mode: 'plan' });
    const error = await failure(openLettingIn(vm(1).open, ctx));
    expect(error.message).toContain("Setup adds the key to the VM's ssh-keys metadata itself");
    expect(asked).toEqual([]);
  });

  it('leaves other failures, a VM given by address and SSH_AUTHORIZE_KEY=off as they are', async () => {
    const unreachable = new GitspacesError('SSH_CONNECT_FAILED', 'connection refused', { retryable: true });
    const { ctx, asked } = context();
    expect(
      await openLettingIn(async () => {
        throw unreachable;
      }, ctx).catch((e) => e),
    ).toBe(unreachable);
    const byAddress = context({
      pre: { vm: { name: '10.0.0.2' }, privateKey: Buffer.from('k') } as Preflight,
    });
    expect((await failure(openLettingIn(vm(1).open, byAddress.ctx))).message).toBe(refused().message);
    const off = context({ keys: undefined });
    expect((await failure(openLettingIn(vm(1).open, off.ctx))).message).toBe(refused().message);
    expect([...asked, ...byAddress.asked]).toEqual([]);
  });

  it('stops waiting when the run is taken over by another worker', async () => {
    const controller = new AbortController();
    const { ctx } = context({
      signal: controller.signal,
      clock: {
        now: () => 0,
        sleep: async () => {
          controller.abort(new Error('lock lost'));
          throw new Error('aborted');
        },
      },
    });
    const error = await openLettingIn(vm(5).open, ctx).catch((e: Error) => e);
    expect((error as Error).name).toBe('RunAbandoned');
  });
});
