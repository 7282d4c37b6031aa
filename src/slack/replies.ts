/**
 * How listeners answer the person who acted: ephemeral for refusals, usage and errors; in the channel for
 * status and plan. https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
 */
import type { RespondArguments, RespondFn } from '@slack/bolt';
import { isGitspacesError } from '../errors.js';
import type { Log } from '../log.js';
import type { SlackMessage } from './blocks/run-message.js';
import { noticeMessage } from './blocks/usage-message.js';

export const QUEUE_UNAVAILABLE = ':warning: The bot’s queue is unavailable, try again shortly.';

export function ephemeral(message: SlackMessage): RespondArguments {
  return { response_type: 'ephemeral', replace_original: false, text: message.text, blocks: message.blocks };
}

export function inChannel(message: SlackMessage): RespondArguments {
  return { response_type: 'in_channel', replace_original: false, text: message.text, blocks: message.blocks };
}

/** What to tell the person when their request could not be carried out. */
export function failureText(error: unknown): string {
  if (isGitspacesError(error) && error.code === 'REDIS_UNAVAILABLE') return QUEUE_UNAVAILABLE;
  if (isGitspacesError(error)) return `:warning: ${error.message}`;
  return ':warning: Something went wrong on the bot’s side; it is in the bot’s log. Try again shortly.';
}

/**
 * Runs the slow part of a listener (after its ack): a failure is explained to the person ephemerally
 * instead of leaving them with silence, then passed on to Bolt's error handler (and the log).
 */
export async function answering(respond: RespondFn, log: Log, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await respond(ephemeral(noticeMessage(failureText(error)))).catch((e: unknown) =>
      log.warn({ err: String(e) }, 'could not answer'),
    );
    if (isGitspacesError(error) && error.code === 'REDIS_UNAVAILABLE') {
      log.warn({ err: error.message }, 'Redis unavailable');
      return;
    }
    throw error;
  }
}
