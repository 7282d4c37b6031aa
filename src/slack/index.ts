/** The Slack side of the bot, as the composition root and the worker use it. */
export type { LogsVm, MetricsSource, PlanVm, ProbeVm } from './app-context.js';
export { createApp, type SlackApp, type SlackAppDeps, startApp } from './create-app.js';
export { createRunReporter } from './delivery/run-reporter.js';
export { createSlackDelivery, type SlackDelivery } from './delivery/slack-delivery.js';
export { createSlackCalls } from './web-api.js';
