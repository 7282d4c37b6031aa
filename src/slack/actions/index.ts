import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../blocks/approval-message.js';
import { REPAIR_ACTION } from '../blocks/watch-notice.js';
import { approvalClick } from './approval-click.js';
import { repairClick } from './repair-click.js';
import { unknownAction } from './unknown-action.js';

export function registerActions(app: App, ctx: AppContext): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, approvalClick(ctx, 'approve'));
  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, approvalClick(ctx, 'reject'));
  app.action<BlockAction<ButtonAction>>(REPAIR_ACTION, repairClick(ctx));
  app.action(new RegExp(`^(?!${APPROVE_ACTION}$|${REJECT_ACTION}$|${REPAIR_ACTION}$)`), unknownAction(ctx));
}
