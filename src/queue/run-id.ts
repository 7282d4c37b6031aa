import { randomBytes } from 'node:crypto';

/** Run ids are BullMQ job ids and appear in button values: no `:`, never an integer, at most 64 characters. */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID.test(value) && !/^\d+$/.test(value);
}

/** `run-<time base36>-<random>`: opaque, unguessable, and roughly ordered by creation. */
export function newRunId(now: number = Date.now()): string {
  return `run-${now.toString(36)}-${randomBytes(9).toString('base64url')}`;
}
