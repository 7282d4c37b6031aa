/**
 * The argument checks the fake Web API applies, answering as Slack does (`invalid_blocks`, `msg_too_long`, …) so
 * that a builder that breaks a limit fails a test instead of a user's channel.
 * https://docs.slack.dev/reference/block-kit/blocks
 */
type Json = Record<string, unknown>;

function textOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && typeof (value as Json).text === 'string'
    ? ((value as Json).text as string)
    : undefined;
}

function elementProblems(element: Json, where: string): string[] {
  const problems: string[] = [];
  if (element.type === 'button') {
    if (typeof element.value === 'string' && element.value.length > 2000)
      problems.push(`${where}.value longer than 2000`);
    if ((textOf(element.text) ?? '').length > 75) problems.push(`${where}.text longer than 75`);
    if (typeof element.action_id === 'string' && element.action_id.length > 255)
      problems.push(`${where}.action_id too long`);
  }
  return problems;
}

function blockProblems(block: Json, index: number): string[] {
  const where = `blocks[${index}]`;
  const problems: string[] = [];
  switch (block.type) {
    case 'section': {
      const text = textOf(block.text);
      const fields = Array.isArray(block.fields) ? (block.fields as Json[]) : [];
      if (text === undefined && fields.length === 0) problems.push(`${where} needs text or fields`);
      if (text !== undefined && (text.length > 3000 || text.length === 0))
        problems.push(`${where}.text must be 1-3000 characters`);
      if (fields.length > 10) problems.push(`${where}.fields more than 10 items`);
      fields.forEach((f, i) => {
        if ((textOf(f) ?? '').length > 2000) problems.push(`${where}.fields[${i}] longer than 2000`);
      });
      if (typeof block.accessory === 'object' && block.accessory !== null)
        problems.push(...elementProblems(block.accessory as Json, `${where}.accessory`));
      break;
    }
    case 'header':
      if ((textOf(block.text) ?? '').length > 150) problems.push(`${where}.text longer than 150`);
      break;
    case 'context': {
      const elements = Array.isArray(block.elements) ? (block.elements as Json[]) : [];
      if (elements.length === 0 || elements.length > 10)
        problems.push(`${where}.elements must have 1-10 items`);
      break;
    }
    case 'actions': {
      const elements = Array.isArray(block.elements) ? (block.elements as Json[]) : [];
      if (elements.length === 0 || elements.length > 25)
        problems.push(`${where}.elements must have 1-25 items`);
      for (const [i, e] of elements.entries())
        problems.push(...elementProblems(e, `${where}.elements[${i}]`));
      break;
    }
    case 'input':
      if ((textOf(block.label) ?? '').length > 2000) problems.push(`${where}.label longer than 2000`);
      if (typeof block.element !== 'object') problems.push(`${where}.element missing`);
      break;
    case 'divider':
    case 'rich_text':
    case 'image':
      break;
    default:
      problems.push(`${where}.type ${String(block.type)} unknown`);
  }
  if (typeof block.block_id === 'string' && block.block_id.length > 255)
    problems.push(`${where}.block_id too long`);
  return problems;
}

/** Problems with a `blocks` argument, as Slack's `response_metadata.messages` would list them. */
export function blocksProblems(blocks: unknown, max: number): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  const problems: string[] = [];
  if (blocks.length > max) problems.push(`[ERROR] must provide at most ${max} items [json-pointer:/blocks]`);
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    if (typeof b !== 'object' || b === null) {
      problems.push(`blocks[${i}] must be an object`);
      return;
    }
    const block = b as Json;
    if (typeof block.block_id === 'string') {
      if (ids.has(block.block_id)) problems.push(`blocks[${i}].block_id ${block.block_id} is not unique`);
      ids.add(block.block_id);
    }
    problems.push(...blockProblems(block, i));
  });
  return problems;
}

/** Problems with a modal `view` argument of views.open. */
export function viewProblems(view: unknown): string[] {
  if (typeof view !== 'object' || view === null) return ['view must be an object'];
  const v = view as Json;
  const problems = blocksProblems(v.blocks, 100);
  if (v.type !== 'modal') problems.push('view.type must be modal');
  const title = textOf(v.title);
  if (title === undefined || title.length > 24) problems.push('view.title must be 1-24 characters');
  if ((textOf(v.submit) ?? '').length > 24) problems.push('view.submit longer than 24');
  if (typeof v.private_metadata === 'string' && v.private_metadata.length > 3000)
    problems.push('view.private_metadata longer than 3000');
  if (typeof v.callback_id === 'string' && v.callback_id.length > 255)
    problems.push('view.callback_id longer than 255');
  return problems;
}

/** Problems with a Home tab `view` argument of views.publish. https://docs.slack.dev/surfaces/app-home */
export function homeViewProblems(view: unknown): string[] {
  if (typeof view !== 'object' || view === null) return ['view must be an object'];
  const v = view as Json;
  const problems = blocksProblems(v.blocks, 100);
  if (v.type !== 'home') problems.push('view.type must be home');
  if (typeof v.private_metadata === 'string' && v.private_metadata.length > 3000)
    problems.push('view.private_metadata longer than 3000');
  return problems;
}
