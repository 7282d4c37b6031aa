/** The Slack side of the bot, as the composition root and the worker use it. */
export type { LogsVm, MetricsSource, PlanVm, ProbeVm } from './app-context.js';
