/**
 * Slack's Block Kit limits the builders stay inside. Slack answers `invalid_blocks` (and the user sees nothing)
 * when one is exceeded. https://docs.slack.dev/reference/block-kit/blocks
 */
export const LIMITS = {
  blocksPerMessage: 50,
  blocksPerModal: 100,
  /** An App Home view holds as many as a modal. https://docs.slack.dev/surfaces/app-home */
  blocksPerHome: 100,
  sectionText: 3000,
  sectionFieldText: 2000,
  sectionFields: 10,
  headerText: 150,
  contextElements: 10,
  buttonValue: 2000,
  buttonText: 75,
  privateMetadata: 3000,
  /** `text` of chat.postMessage is truncated by Slack past 40,000; keep notifications short anyway. */
  messageText: 4000,
} as const;

/** Cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Keeps the end of `text` (log tails matter most at the end), marking the cut. */
export function keepTail(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = text.slice(text.length - (max - 2));
  const firstBreak = tail.indexOf('\n');
  // Start at a line boundary when one is near, so the first shown line is whole.
  const clean = firstBreak >= 0 && firstBreak < 200 ? tail.slice(firstBreak + 1) : tail;
  return `…\n${clean}`;
}

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters.
 * https://docs.slack.dev/messaging/formatting-message-text#escaping
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escapes text written by the engine (step summaries, error messages) but keeps the user mentions it writes on
 * purpose (`approved by <@U…>`); anything else that looks like a link or a broadcast (`<!channel>`) is neutralised.
 */
export function escapeKeepingMentions(text: string): string {
  return escapeMrkdwn(text).replace(/&lt;@([UW][A-Z0-9]{2,})&gt;/g, '<@$1>');
}

/** A code block that cannot be closed early by the text inside it, within `max` characters in total. */
export function codeBlock(text: string, max: number = LIMITS.sectionText): string {
  const safe = escapeMrkdwn(text.replace(/```/g, '`\u200b`\u200b`')).trimEnd();
  return `\`\`\`${keepTail(safe, max - 6)}\`\`\``;
}
