import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { GitspacesError } from '../../errors.js';
import { withTimeout } from '../../timeout.js';
import type { AppContext } from '../app-context.js';
import { channelFromMetadata, MODAL_FIELDS, type ModalField } from '../blocks/setup-modal.js';
import { reserveRun } from '../commands/reserve-run.js';
import { Priority } from '../delivery/run-reporter.js';
import { failureText } from '../replies.js';
import { type SetupForm, validateSetupForm } from './validate-setup-form.js';

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
type FieldErrors = Partial<Record<ModalField, string>>;

/**
 * The access check and the run's reservation happen before the ack, so a refusal, a busy VM or a missing
 * queue shows in the form itself; both are bounded so the ack still goes out within Slack's 3 s.
 */
const ACCESS_TIMEOUT_MS = 1000;
const RESERVE_TIMEOUT_MS = 1500;

function readForm(values: ViewSubmitAction['view']['state']['values']): SetupForm {
  const form = {} as SetupForm;
  for (const field of MODAL_FIELDS) form[field] = values[field]?.[field]?.value ?? '';
  return form;
}

/** Field errors are plain text: mrkdwn and links do not render there. */
function plain(text: string): string {
  return text
    .replace(/<#([CG][A-Z0-9]+)>/g, '#$1')
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2: $1')
    .replace(/[*`]|:[a-z_]+: /g, '');
}

/**
 * Submission of the setup modal: every problem comes back under its field (`response_action: 'errors'`),
 * otherwise the modal closes and the run's parent message appears in the channel.
 * https://docs.slack.dev/surfaces/modals#displaying_errors
 */
export function setupSubmission(ctx: AppContext) {
  return async function onSetupSubmission({ ack, body, view }: Args): Promise<void> {
    const user = body.user.id;
    const channel = channelFromMetadata(view.private_metadata);
    const errors = async (fields: FieldErrors) =>
      ack({ response_action: 'errors', errors: fields as Record<string, string> });
    if (channel === undefined)
      return errors({ vm: 'This form lost its channel: run /gitspaces setup again.' });
    const checked = validateSetupForm(readForm(view.state.values), ctx.config);
    if (!checked.ok) return errors(checked.errors);
    const where = ctx.access.channel(channel);
    if (!where.ok) return errors({ vm: plain(where.why) });
    const allowed = await withTimeout(
      ctx.access.start(user),
      ACCESS_TIMEOUT_MS,
      () => new Error('access check timed out'),
    ).catch(() => ({
      ok: false as const,
      why: 'Slack did not tell me in time whether you may start setups; try again in a moment.',
    }));
    if (!allowed.ok) return errors({ vm: allowed.why });
    let reserved: Awaited<ReturnType<typeof reserveRun>>;
    try {
      reserved = await withTimeout(
        reserveRun(ctx, {
          target: checked.target,
          requester: user,
          channel,
          ...(checked.delegateName === undefined ? {} : { delegateName: checked.delegateName }),
          ...(checked.tags === undefined ? {} : { tags: checked.tags }),
        }),
        RESERVE_TIMEOUT_MS,
        () => new GitspacesError('REDIS_UNAVAILABLE', 'Redis did not answer in time.', { retryable: true }),
      );
    } catch (error) {
      ctx.log.warn({ err: String(error) }, 'could not start a run from the modal');
      return errors({ vm: plain(failureText(error)) });
    }
    if (!reserved.ok) return errors({ vm: plain(reserved.refusal) });
    await ack();
    // Its parent: a person waits for it, so it goes first in the channel.
    await ctx.delivery.sync(reserved.run.id, 'post', Priority.urgent);
  };
}
