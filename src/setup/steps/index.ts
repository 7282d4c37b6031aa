import { delegateStep } from './delegate.js';
import { dockerStep } from './docker.js';
import { delegateHealthStep, runnerHealthStep } from './health.js';
import { networkStep } from './network.js';
import { poolFileStep } from './pool-file.js';
import { runnerStep } from './runner.js';
import type { VmStep } from './step.js';

/** The steps before approval, then after it, in contract order. */
export const BEFORE_APPROVAL: VmStep[] = [
  dockerStep,
  poolFileStep,
  networkStep,
  runnerStep,
  runnerHealthStep,
];
export const AFTER_APPROVAL: VmStep[] = [delegateStep, delegateHealthStep];
export type { Check, RunMaterial, StepContext, VmStep } from './step.js';
