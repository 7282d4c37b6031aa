/**
 * A VM that refuses the bot's key: in a setup run the key is let in (KeyAccess: the VM's ssh-keys metadata,
 * or with OS Login the bot identity's profile), and the login is tried again while the VM applies it:
 * seconds as a rule, and `gcloud compute ssh` waits up to a minute too. Without the right to change
 * anything (plan, status, the watch), a key let in earlier is still found, with the user it logs in as.
 */
import { GitspacesError } from '../errors.js';
import { throwIfAbandoned } from './abandon.js';
import type { Clock, KeyAccess, KeyPlace } from './ports.js';

/** How long the VM may take to let a key in after it was added. */
export const LET_IN_WAIT_MS = 60_000;
const TRY_EVERY_MS = 2_000;

/** Who the bot is and where: enough to look for its key without changing anything. */
export interface KeyLookup {
  keys: KeyAccess | undefined;
  /** The VM by name (zone and project when found through Google). */
  vm: { name: string; zone?: string; project?: string };
  privateKey: Buffer;
  /** SSH_USER: who logs in first. */
  user: string;
}

/** A setup run's: it may add the key, then waits for the VM to apply it. */
export interface LetInContext extends KeyLookup {
  clock: Clock;
  signal: AbortSignal | undefined;
  /** A line in the step's output. */
  say(text: string): Promise<void>;
}

export interface LetInResult {
  /** Who logged in. */
  user: string;
  /** What was changed, for the step's summary; undefined: nothing. */
  change: string | undefined;
}

const refused = (error: unknown): error is GitspacesError =>
  error instanceof GitspacesError && error.code === 'SSH_AUTH_FAILED';

function stillRefused(ctx: LetInContext, found: KeyPlace, cause: unknown): GitspacesError {
  const when = found.how === 'added' ? 'it was added to' : 'finding it in';
  const why =
    found.stillRefused ??
    "The VM applies it through Google's guest environment: check that it runs (`systemctl status google-guest-agent` on the VM); " +
      `on an image without it, put the key in ${found.user}'s ~/.ssh/authorized_keys yourself, or set SSH_USER to a user that holds it.`;
  return new GitspacesError(
    'SSH_AUTH_FAILED',
    `VM ${ctx.vm.name} still refuses the bot's key for ${found.user} ${LET_IN_WAIT_MS / 1000} s after ${when} ${found.place}. ${why}`,
    { cause },
  );
}

/** Tries `open` as `user` every 2 s until the VM lets the key in, for at most LET_IN_WAIT_MS. */
async function waitForLogin(
  open: (user: string) => Promise<void>,
  ctx: LetInContext,
  found: KeyPlace,
  error: unknown,
): Promise<void> {
  const until = ctx.clock.now() + LET_IN_WAIT_MS;
  for (let last = error; ; ) {
    if (ctx.clock.now() >= until) throw stillRefused(ctx, found, last);
    await ctx.clock.sleep(TRY_EVERY_MS, ctx.signal).catch(() => throwIfAbandoned(ctx.signal));
    try {
      return await open(found.user);
    } catch (again) {
      if (!refused(again)) throw again;
      last = again;
    }
  }
}

/** The VM's coordinates when it was found through Google (only such a VM's key can be let in). */
function located(lookup: KeyLookup) {
  const { name, zone, project } = lookup.vm;
  return lookup.keys === undefined || zone === undefined || project === undefined
    ? undefined
    : { keys: lookup.keys, vm: { project, zone, name } };
}

/**
 * Opens the session with `open`, changing nothing: as SSH_USER, or when the VM refuses it, as the user a key
 * let in earlier logs in as (OS Login's). `first`, who logged in last time, is tried before SSH_USER: the VM
 * then sees no refused login at every look. Returns who logged in.
 */
export async function openAsFound(
  open: (user: string) => Promise<void>,
  lookup: KeyLookup,
  first?: string,
): Promise<string> {
  if (first !== undefined && first !== lookup.user) {
    try {
      await open(first);
      return first;
    } catch (error) {
      if (!refused(error)) throw error;
    }
  }
  try {
    await open(lookup.user);
    return lookup.user;
  } catch (error) {
    const where = located(lookup);
    if (!refused(error) || where === undefined) throw error;
    const found = await where.keys.letIn(where.vm, lookup.user, lookup.privateKey, false);
    if (found === undefined)
      throw new GitspacesError(
        'SSH_AUTH_FAILED',
        `${error.message} Setup lets the key in itself (SSH_AUTHORIZE_KEY=auto).`,
        { cause: error },
      );
    if (found.user === lookup.user) throw error;
    await open(found.user);
    return found.user;
  }
}

/** Opens the session with `open`, letting the key in first when the VM refuses it. */
export async function openLettingIn(
  open: (user: string) => Promise<void>,
  ctx: LetInContext,
): Promise<LetInResult> {
  try {
    await open(ctx.user);
    return { user: ctx.user, change: undefined };
  } catch (error) {
    const where = located(ctx);
    if (!refused(error) || where === undefined) throw error;
    const found = await where.keys.letIn(where.vm, ctx.user, ctx.privateKey, true);
    if (found === undefined) throw error;
    await ctx.say(
      found.how === 'added'
        ? `The VM refused the bot's key for ${ctx.user}: added it to ${found.place}; waiting for the VM to let it in as ${found.user}.`
        : `The VM refused the bot's key for ${ctx.user}, which ${found.place} holds: logging in as ${found.user}.`,
    );
    // OS Login's user is let in at once when the key was there already: no wait before the first try.
    if (found.how === 'present' && found.user !== ctx.user) {
      try {
        await open(found.user);
        return { user: found.user, change: undefined };
      } catch (again) {
        if (!refused(again)) throw again;
      }
    }
    await waitForLogin(open, ctx, found, error);
    const change = found.how === 'added' ? `key added to ${found.place} for ${found.user}` : undefined;
    return { user: found.user, change };
  }
}
