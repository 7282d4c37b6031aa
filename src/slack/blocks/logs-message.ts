/** `/gitspaces logs`: a container's log as a code block in the channel, or the comment of the file it comes in. */
import type { ContainerLogs } from '../../setup/container-logs.js';
import { codeBlock, escapeMrkdwn, LIMITS } from './limits.js';
import type { SlackMessage } from './run-message.js';

/**
 * A log is posted in the message when its code block (fences and mrkdwn escaping included) fits one section
 * (Block Kit's 3,000 characters: cutting it would hide lines without saying so) and it has at most 60 lines,
 * about a screen: longer logs read better as a file the channel can expand, search and download.
 */
export const INLINE_LOG_LINES = 60;

const lineCount = (text: string) => (text === '' ? 0 : text.split('\n').length);

export function fitsInMessage(logs: ContainerLogs): boolean {
  return (
    lineCount(logs.text) <= INLINE_LOG_LINES &&
    codeBlock(logs.text, Number.POSITIVE_INFINITY).length <= LIMITS.sectionText
  );
}

/** VM, container and lines: the header line of the message, and the comment of a file. */
export function logsHeader(logs: ContainerLogs): string {
  const shown = lineCount(logs.text);
  const fewer = shown < logs.requested ? ` (${shown} printed)` : '';
  return `:page_facing_up: *${escapeMrkdwn(logs.vm)}* · \`${escapeMrkdwn(logs.container)}\` · last ${logs.requested} lines${fewer}`;
}

const plainHeader = (logs: ContainerLogs) =>
  `Logs of ${logs.container} on ${logs.vm}, last ${logs.requested} lines`;

export function logsMessage(logs: ContainerLogs): SlackMessage {
  const body = logs.text === '' ? '_The container has printed nothing yet._' : codeBlock(logs.text);
  return {
    text: plainHeader(logs),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: logsHeader(logs) } },
      { type: 'section', text: { type: 'mrkdwn', text: body } },
    ],
  };
}

/** The file a long log is shared as. */
export function logsFile(logs: ContainerLogs) {
  return {
    filename: `${logs.vm}-${logs.container}.log`,
    title: plainHeader(logs),
    content: `${logs.text}\n`,
    comment: logsHeader(logs),
  };
}
