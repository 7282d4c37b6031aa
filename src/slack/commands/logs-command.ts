import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import { asGitspacesError } from '../../errors.js';
import type { LogsContainer } from '../../setup/container-logs.js';
import type { VmRef } from '../../setup/ports.js';
import { withTimeout } from '../../timeout.js';
import type { AppContext } from '../app-context.js';
import { codeBlock } from '../blocks/limits.js';
import { fitsInMessage, logsFile, logsMessage } from '../blocks/logs-message.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral, failureText, inChannel } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

/** Reading a log connects over SSH, as a status probe does: give up long before the response URL (30 min). */
const LOGS_TIMEOUT_MS = 90_000;
/** The person waits for the file: its upload is tried again for this long. */
const UPLOAD_FOR_MS = 60_000;

/**
 * `/gitspaces logs <vm> runner|delegate [lines]`: for whoever may run setup. The log is redacted before it
 * leaves the VM's reader; short ones go in the channel as a code block, long ones as a file.
 */
export async function logsCommand(
  ctx: AppContext,
  { command, respond }: Args,
  request: { vm: VmRef; container: LogsContainer; lines: number },
): Promise<void> {
  const allowed = await ctx.access.start(command.user_id);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  if (ctx.logsVm === undefined) {
    await respond(ephemeral(noticeMessage('Reading logs is not enabled in this process.')));
    return;
  }
  const { vm, container, lines } = request;
  await respond(
    ephemeral(
      noticeMessage(`:mag: Fetching the last ${lines} lines of the ${container} log on *${vm.name}*…`),
    ),
  );
  let logs: Awaited<ReturnType<typeof ctx.logsVm>>;
  try {
    logs = await withTimeout(
      ctx.logsVm({ vm: vm.name, project: vm.project, zone: vm.zone }, { container, lines }),
      LOGS_TIMEOUT_MS,
      () => new Error(`no answer within ${LOGS_TIMEOUT_MS / 1000}s`),
    );
  } catch (error) {
    const e = asGitspacesError(error);
    ctx.log.warn({ vm: vm.name, container, code: e.code }, 'could not read container logs');
    const detail = e.detail ? `\n${codeBlock(e.detail, 1500)}` : '';
    await respond(ephemeral(noticeMessage(`${failureText(e)}${detail}`)));
    return;
  }
  if (fitsInMessage(logs)) {
    await respond(inChannel(logsMessage(logs)));
    return;
  }
  try {
    await ctx.calls.uploadFile(
      { channel: command.channel_id, ...logsFile(logs) },
      { deadlineMs: UPLOAD_FOR_MS },
    );
  } catch (error) {
    ctx.log.warn({ vm: vm.name, container, err: String(error) }, 'could not upload container logs');
    await respond(
      ephemeral(
        noticeMessage(
          `:warning: The log is too long for a message and could not be shared as a file (${error instanceof Error ? error.message : String(error)}). The app needs the \`files:write\` scope and must be in this channel; or ask for fewer lines.`,
        ),
      ),
    );
  }
}
