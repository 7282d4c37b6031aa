import type { App } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { SETUP_MODAL_CALLBACK } from '../blocks/setup-modal.js';
import { setupSubmission } from './setup-submission.js';

export function registerViews(app: App, ctx: AppContext): void {
  app.view(SETUP_MODAL_CALLBACK, setupSubmission(ctx));
}
