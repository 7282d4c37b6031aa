import type { App } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { gitspacesCommand } from './gitspaces-command.js';

export function registerCommands(app: App, ctx: AppContext): void {
  app.command('/gitspaces', gitspacesCommand(ctx));
}
