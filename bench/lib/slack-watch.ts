/**
 * Arrival times at the fake Slack: every message posted and every Web API call answered, stamped as it is
 * recorded (the fake keeps both in arrays; the watch stamps their `push`), with waiters for messages.
 */
import type { FakeMessage, FakeSlack, RecordedCall } from '../../test/support/fake-slack.js';
import { now } from './clock.js';

export interface StampedCall extends RecordedCall {
  at: number;
}

export class SlackWatch {
  readonly arrivals = new Map<FakeMessage, number>();
  readonly calls: StampedCall[] = [];
  private readonly waiters: Array<{ test: (m: FakeMessage) => boolean; resolve: (m: FakeMessage) => void }> =
    [];
  private readonly callListeners: Array<(call: StampedCall) => void> = [];
  private readonly messageListeners: Array<(message: FakeMessage, at: number) => void> = [];

  constructor(readonly slack: FakeSlack) {
    const messages = slack.messages;
    messages.push = (...items: FakeMessage[]) => {
      const at = now();
      const length = Array.prototype.push.apply(messages, items);
      for (const message of items) {
        this.arrivals.set(message, at);
        for (const listener of this.messageListeners) listener(message, at);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(message)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(message);
          }
        }
      }
      return length;
    };
    const calls = slack.calls;
    calls.push = (...items: RecordedCall[]) => {
      const at = now();
      for (const call of items) {
        const stamped = { ...call, at };
        this.calls.push(stamped);
        for (const listener of this.callListeners) listener(stamped);
      }
      return Array.prototype.push.apply(calls, items);
    };
  }

  onMessage(listener: (message: FakeMessage, at: number) => void): void {
    this.messageListeners.push(listener);
  }

  onCall(listener: (call: StampedCall) => void): void {
    this.callListeners.push(listener);
  }

  arrivedAt(message: FakeMessage): number {
    return this.arrivals.get(message) ?? Number.NaN;
  }

  /** The first message (already there or still to come) that passes `test`. */
  message(what: string, test: (m: FakeMessage) => boolean, timeoutMs: number): Promise<FakeMessage> {
    const found = this.slack.messages.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (m: FakeMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

export const isApprovalRequest = (m: FakeMessage) =>
  m.replyBroadcast && JSON.stringify(m.blocks).includes('delegate_approve');

/** The run id an approval request's buttons carry. */
export function runIdOf(request: FakeMessage): string {
  return JSON.stringify(request.blocks).match(/"value":"(run-[A-Za-z0-9_-]+)"/)?.[1] ?? '';
}
