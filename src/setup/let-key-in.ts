/**
 * A VM that refuses the bot's key gets it, in a setup run, through its metadata (KeyAccess); the login is
 * then tried again while the VM's guest agent applies it: seconds as a rule, and `gcloud compute ssh`
 * waits up to a minute too. A plan changes nothing: its refusal says that setup would add the key.
 */
import { GitspacesError } from '../errors.js';
import { throwIfAbandoned } from './abandon.js';
import type { Clock, KeyAccess } from './ports.js';
import type { Preflight } from './preflight.js';

/** How long the guest agent may take to let a key from the metadata in. */
export const LET_IN_WAIT_MS = 60_000;
const TRY_EVERY_MS = 2_000;

export interface LetInContext {
  keys: KeyAccess | undefined;
  mode: 'setup' | 'plan';
  pre: Preflight;
  user: string;
  clock: Clock;
  signal: AbortSignal | undefined;
  /** A line in the step's output. */
  say(text: string): Promise<void>;
}

const refused = (error: unknown): error is GitspacesError =>
  error instanceof GitspacesError && error.code === 'SSH_AUTH_FAILED';

function stillRefused(ctx: LetInContext, how: 'added' | 'present', cause: unknown): GitspacesError {
  const when = how === 'added' ? 'it was added to' : 'finding it in';
  return new GitspacesError(
    'SSH_AUTH_FAILED',
    `VM ${ctx.pre.vm.name} still refuses the bot's key for ${ctx.user} ${LET_IN_WAIT_MS / 1000} s after ${when} its ssh-keys metadata. ` +
      "The VM's guest agent applies those keys: check that it runs (`systemctl status google-guest-agent` on the VM); " +
      `on an image without it, put the key in ${ctx.user}'s ~/.ssh/authorized_keys yourself, or set SSH_USER to a user that holds it.`,
    { cause },
  );
}

/**
 * Opens the session with `open`, letting the key in first when the VM refuses it and the run may. Returns
 * what it changed, for the step's summary (undefined: nothing).
 */
export async function openLettingIn(
  open: () => Promise<void>,
  ctx: LetInContext,
): Promise<string | undefined> {
  try {
    await open();
    return undefined;
  } catch (error) {
    const { name, zone, project } = ctx.pre.vm;
    if (!refused(error) || ctx.keys === undefined || zone === undefined || project === undefined) throw error;
    if (ctx.mode === 'plan')
      throw new GitspacesError(
        'SSH_AUTH_FAILED',
        `${error.message} Setup adds the key to the VM's ssh-keys metadata itself (SSH_AUTHORIZE_KEY=auto).`,
        { cause: error },
      );
    const how = await ctx.keys.letIn({ project, zone, name }, ctx.user, ctx.pre.privateKey);
    await ctx.say(
      how === 'added'
        ? `The VM refused the bot's key for ${ctx.user}: added it to the VM's ssh-keys metadata, waiting for its guest agent to let it in.`
        : `The VM refused the bot's key for ${ctx.user}, which its ssh-keys metadata holds: waiting for its guest agent to let it in.`,
    );
    const until = ctx.clock.now() + LET_IN_WAIT_MS;
    for (let last: unknown = error; ; ) {
      if (ctx.clock.now() >= until) throw stillRefused(ctx, how, last);
      await ctx.clock.sleep(TRY_EVERY_MS, ctx.signal).catch(() => throwIfAbandoned(ctx.signal));
      try {
        await open();
        return how === 'added' ? `key added to its ssh-keys metadata for ${ctx.user}` : undefined;
      } catch (again) {
        if (!refused(again)) throw again;
        last = again;
      }
    }
  }
}
