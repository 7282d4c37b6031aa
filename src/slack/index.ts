/** The Slack side of the bot, as the composition root and the worker use it. */
export type { MetricsSource, PlanVm, ProbeVm } from './app-context.js';
export { createApp, type SlackApp, type SlackAppDeps, startApp } from './create-app.js';
export { type Log, silentLog } from './log.js';
export {
  type AttachMessage,
  createSlackReporterFactory,
  type SlackReporterFactoryOptions,
  type SlackReporters,
} from './reporter/slack-reporters.js';
