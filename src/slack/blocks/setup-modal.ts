import type { types } from '@slack/bolt';
import { LIMITS, truncate } from './limits.js';

export const SETUP_MODAL_CALLBACK = 'gitspaces_setup';
/** Block ids that are also the action ids of their inputs (the contract names them). */
export const MODAL_FIELDS = ['vm', 'project', 'zone', 'delegate_name', 'tags'] as const;
export type ModalField = (typeof MODAL_FIELDS)[number];

export interface SetupModalInput {
  /** Where the run's parent message goes; carried in `private_metadata`. */
  channel: string;
  project: string | undefined;
  zone: string | undefined;
  /** DELEGATE_NAME as configured (`{vm}` is replaced on submission). */
  delegateName: string;
  tags: string;
}

function input(
  field: ModalField,
  label: string,
  options: { optional: boolean; initial?: string | undefined; placeholder: string; hint: string },
): types.InputBlock {
  const element: types.PlainTextInput = {
    type: 'plain_text_input',
    action_id: field,
    placeholder: { type: 'plain_text', text: options.placeholder },
    max_length: field === 'tags' ? 500 : 100,
  };
  // Slack refuses an empty initial_value: leave the field empty instead.
  if (options.initial !== undefined && options.initial !== '') element.initial_value = options.initial;
  return {
    type: 'input',
    block_id: field,
    optional: options.optional,
    label: { type: 'plain_text', text: label },
    hint: { type: 'plain_text', text: options.hint },
    element,
  };
}

/** The modal `/gitspaces setup` opens when no VM is given. https://docs.slack.dev/surfaces/modals */
export function setupModal(values: SetupModalInput): types.ModalView {
  return {
    type: 'modal',
    callback_id: SETUP_MODAL_CALLBACK,
    private_metadata: truncate(JSON.stringify({ channel: values.channel }), LIMITS.privateMetadata),
    title: { type: 'plain_text', text: 'Gitspaces setup' },
    submit: { type: 'plain_text', text: 'Start setup' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: 'Installs the Harness VM runner and, once an approver agrees, the delegate on a Google Cloud VM. Progress goes to this channel.',
        },
      },
      input('vm', 'VM name', {
        optional: false,
        placeholder: 'gitspaces-runner',
        hint: 'The Compute Engine instance: lowercase letters, digits and hyphens.',
      }),
      input('project', 'Project', {
        optional: true,
        initial: values.project,
        placeholder: 'my-project',
        hint: 'Google Cloud project id (GCP_PROJECT when empty).',
      }),
      input('zone', 'Zone', {
        optional: true,
        initial: values.zone,
        placeholder: 'us-central1-a',
        hint: 'The VM’s zone (GCP_ZONE when empty).',
      }),
      input('delegate_name', 'Delegate name', {
        optional: true,
        initial: values.delegateName,
        placeholder: '{vm}-delegate',
        hint: '{vm} is replaced by the VM name.',
      }),
      input('tags', 'Delegate tags', {
        optional: true,
        initial: values.tags,
        placeholder: 'gitspaces, us-central1',
        hint: 'Comma-separated.',
      }),
    ],
  };
}

/** Reads the channel back from `private_metadata`; undefined when it is not ours. */
export function channelFromMetadata(metadata: string | undefined): string | undefined {
  try {
    const parsed: unknown = JSON.parse(metadata ?? '');
    const channel = (parsed as { channel?: unknown }).channel;
    return typeof channel === 'string' && /^[CGD][A-Z0-9]+$/.test(channel) ? channel : undefined;
  } catch {
    return undefined;
  }
}
