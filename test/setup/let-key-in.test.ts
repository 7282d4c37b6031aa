/**
 * The connect step's handling of a refused key: when it asks for the key to be let in, as whom it logs in
 * then, how long it waits for the VM, and what it says when that never happens.
 */
import { describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { LET_IN_WAIT_MS, type LetInContext, openAsFound, openLettingIn } from '../../src/setup/let-key-in.js';
import type { KeyAccess, KeyPlace } from '../../src/setup/ports.js';
import { codedError } from '../support/coded-error.js';
import { manualClock } from '../support/fake-google.js';

const METADATA = "the VM's ssh-keys metadata";
const OS_LOGIN = 'the OS Login profile of bot@acme.iam.gserviceaccount.com';
const refused = (user: string) =>
  new GitspacesError('SSH_AUTH_FAILED', `SSH login as ${user} to 10.0.0.2:22 was refused.`);

/** A VM that lets `user` in from its `lettingInFrom`-th try on (1-based), and refuses everyone else. */
function vm(user: string, lettingInFrom: number) {
  const tries: string[] = [];
  return {
    tries,
    open: async (as: string) => {
      tries.push(as);
      if (as !== user || tries.filter((t) => t === user).length < lettingInFrom) throw refused(as);
    },
  };
}

/** Key access that answers `found` when it may write, and `read` (`absent`: nothing found) when it may not. */
function access(found: KeyPlace, read: KeyPlace | 'absent' = found) {
  const asked: string[] = [];
  const keys: KeyAccess = {
    letIn: async (where, user, _key, write) => {
      asked.push(`${where.project}/${where.zone}/${where.name} ${user} ${write ? 'write' : 'read'}`);
      return write ? found : read === 'absent' ? undefined : read;
    },
  };
  return { keys, asked };
}

function context(overrides: Partial<LetInContext> = {}) {
  const clock = manualClock();
  const said: string[] = [];
  const ctx: LetInContext = {
    keys: access({ how: 'added', user: 'gitspaces', place: METADATA }).keys,
    vm: { name: 'runner-1', zone: 'us-central1-a', project: 'acme' },
    privateKey: Buffer.from('key'),
    user: 'gitspaces',
    clock,
    signal: undefined,
    say: async (text) => void said.push(text),
    ...overrides,
  };
  return { ctx, clock, said };
}

describe('a refused key in the connect step', () => {
  it('is let in once, then the login is tried again until the VM has applied it', async () => {
    const { keys, asked } = access({ how: 'added', user: 'gitspaces', place: METADATA });
    const { ctx, clock, said } = context({ keys });
    const host = vm('gitspaces', 4);
    const started = clock.now();
    expect(await openLettingIn(host.open, ctx)).toEqual({
      user: 'gitspaces',
      change: `key added to ${METADATA} for gitspaces`,
    });
    expect(asked).toEqual(['acme/us-central1-a/runner-1 gitspaces write']);
    expect(host.tries).toHaveLength(4);
    expect(said).toEqual([
      `The VM refused the bot's key for gitspaces: added it to ${METADATA}; waiting for the VM to let it in as gitspaces.`,
    ]);
    expect(clock.now() - started).toBe(6_000);
  });

  it('logs in as the POSIX user OS Login gives the bot, once its key is in that profile', async () => {
    const { keys } = access({ how: 'added', user: 'sa_1170', place: OS_LOGIN });
    const { ctx } = context({ keys });
    const host = vm('sa_1170', 2);
    expect(await openLettingIn(host.open, ctx)).toEqual({
      user: 'sa_1170',
      change: `key added to ${OS_LOGIN} for sa_1170`,
    });
    expect(host.tries).toEqual(['gitspaces', 'sa_1170', 'sa_1170']);
  });

  it('goes straight to the OS Login user when the profile held the key already', async () => {
    const { keys } = access({ how: 'present', user: 'sa_1170', place: OS_LOGIN });
    const { ctx, clock, said } = context({ keys });
    const started = clock.now();
    expect(await openLettingIn(vm('sa_1170', 1).open, ctx)).toEqual({ user: 'sa_1170', change: undefined });
    expect(clock.now()).toBe(started);
    expect(said[0]).toContain(`which ${OS_LOGIN} holds: logging in as sa_1170`);
  });

  it('changes nothing when the VM lets the key in at once', async () => {
    const { keys, asked } = access({ how: 'added', user: 'gitspaces', place: METADATA });
    const { ctx } = context({ keys });
    expect(await openLettingIn(vm('gitspaces', 1).open, ctx)).toEqual({
      user: 'gitspaces',
      change: undefined,
    });
    expect(asked).toEqual([]);
  });

  it('gives up after a minute, naming the guest environment', async () => {
    const { ctx, clock } = context();
    const started = clock.now();
    const error = await codedError(openLettingIn(vm('nobody', 1).open, ctx));
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain(
      `VM runner-1 still refuses the bot's key for gitspaces 60 s after it was added to ${METADATA}`,
    );
    expect(error.message).toContain('systemctl status google-guest-agent');
    expect(clock.now() - started).toBe(LET_IN_WAIT_MS);
  });

  it("gives up after a minute with the place's own reason when it has one (OS Login's roles)", async () => {
    const stillRefused =
      'OS Login lets bot@acme in only with roles/compute.osAdminLogin on the VM or its project.';
    const { keys } = access({ how: 'added', user: 'sa_1170', place: OS_LOGIN, stillRefused });
    const { ctx } = context({ keys });
    const error = await codedError(openLettingIn(vm('nobody', 1).open, ctx));
    expect(error.message).toContain(
      `still refuses the bot's key for sa_1170 60 s after it was added to ${OS_LOGIN}`,
    );
    expect(error.message).toContain(stillRefused);
    expect(error.message).not.toContain('google-guest-agent');
  });

  it('adds nothing without the right to: says that setup would, or logs in as the OS Login user found', async () => {
    const absent = access({ how: 'added', user: 'gitspaces', place: METADATA }, 'absent');
    const plan = context({ keys: absent.keys });
    const error = await codedError(openAsFound(vm('gitspaces', 2).open, plan.ctx));
    expect(error.message).toContain('Setup lets the key in itself (SSH_AUTHORIZE_KEY=auto)');
    expect(absent.asked).toEqual(['acme/us-central1-a/runner-1 gitspaces read']);

    const found = access({ how: 'present', user: 'sa_1170', place: OS_LOGIN });
    const read = context({ keys: found.keys });
    expect(await openAsFound(vm('sa_1170', 1).open, read.ctx)).toBe('sa_1170');
    expect(found.asked).toEqual(['acme/us-central1-a/runner-1 gitspaces read']);

    // In metadata already for SSH_USER, yet refused: there is no one else to try.
    const same = context({ keys: access({ how: 'present', user: 'gitspaces', place: METADATA }).keys });
    expect((await codedError(openAsFound(vm('nobody', 1).open, same.ctx))).message).toBe(
      refused('gitspaces').message,
    );
  });

  it('tries the user who logged in last time first, and falls back when the VM refuses that one', async () => {
    const found = access({ how: 'present', user: 'sa_1170', place: OS_LOGIN });
    const host = vm('sa_1170', 1);
    expect(await openAsFound(host.open, context({ keys: found.keys }).ctx, 'sa_1170')).toBe('sa_1170');
    expect(host.tries).toEqual(['sa_1170']);
    expect(found.asked).toEqual([]);

    // OS Login turned off since: the remembered user is refused, SSH_USER is let in.
    const back = vm('gitspaces', 1);
    expect(await openAsFound(back.open, context().ctx, 'sa_1170')).toBe('gitspaces');
    expect(back.tries).toEqual(['sa_1170', 'gitspaces']);
  });

  it('leaves other failures, a VM given by address and SSH_AUTHORIZE_KEY=off as they are', async () => {
    const unreachable = new GitspacesError('SSH_CONNECT_FAILED', 'connection refused', { retryable: true });
    const { keys, asked } = access({ how: 'added', user: 'gitspaces', place: METADATA });
    const { ctx } = context({ keys });
    const thrown = await openLettingIn(async () => {
      throw unreachable;
    }, ctx).catch((e: unknown) => e);
    expect(thrown).toBe(unreachable);
    const byAddress = context({ keys, vm: { name: '10.0.0.2' } });
    expect((await codedError(openLettingIn(vm('x', 1).open, byAddress.ctx))).message).toBe(
      refused('gitspaces').message,
    );
    const off = context({ keys: undefined });
    expect((await codedError(openLettingIn(vm('x', 1).open, off.ctx))).message).toBe(
      refused('gitspaces').message,
    );
    expect(asked).toEqual([]);
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
    const error = await openLettingIn(vm('gitspaces', 5).open, ctx).catch((e: Error) => e);
    expect((error as Error).name).toBe('RunAbandoned');
  });
});
