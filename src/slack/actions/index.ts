import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../blocks/approval-message.js';
import { approvalClick } from './approval-click.js';
import { unknownAction } from './unknown-action.js';

export function registerActions(app: App, ctx: AppContext): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, approvalClick(ctx, 'approve'));
  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, approvalClick(ctx, 'reject'));
  app.action(new RegExp(`^(?!${APPROVE_ACTION}$|${REJECT_ACTION}$)`), unknownAction(ctx));
}
