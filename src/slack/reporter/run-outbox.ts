/**
 * The messages of one run, delivered in order by one loop: the parent message first (posted if the run has
 * none yet), then thread replies and edits in the order they were asked for, and the parent's checklist
 * edited in place at most once per `updateIntervalMs` with the latest state (intermediate states are
 * skipped, not queued). Nothing here throws to the caller: the run never waits for Slack.
 */
import type { SlackMessage } from '../blocks/run-message.js';
import { SlackRefusedError, type SlackSender } from '../delivery/slack-sender.js';
import type { Log } from '../log.js';

export type OutboxItem =
  | { kind: 'reply'; message: SlackMessage; broadcast?: boolean; posted?: (ts: string) => Promise<void> }
  | { kind: 'edit'; ts: () => string | undefined; message: SlackMessage };

export interface RunOutboxOptions {
  runId: string;
  sender: SlackSender;
  channel: string;
  parentTs: string | undefined;
  /** The parent message as it should look now. */
  render: () => SlackMessage;
  /** Records a parent message this outbox posted (so every process edits the same one). */
  parentPosted: (ts: string) => Promise<void>;
  updateIntervalMs: number;
  log: Log;
}

export class RunOutbox {
  private parentTs: string | undefined;
  /** True when Slack refused to post the parent (e.g. the bot is not in the channel): nothing more is tried. */
  private parentRefused = false;
  private readonly items: OutboxItem[] = [];
  private dirty = false;
  private lastSent: string | undefined;
  private lastUpdateAt = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: RunOutboxOptions) {
    this.parentTs = options.parentTs;
  }

  get parent(): string | undefined {
    return this.parentTs;
  }

  /** True while messages are being delivered or an edit is waiting for its turn. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Adopts a parent message another process posted (learned from the run record). */
  adoptParent(ts: string | undefined): void {
    if (this.parentTs === undefined && ts !== undefined) this.parentTs = ts;
  }

  /** The parent's checklist changed; it will be edited soon with whatever is latest then. */
  changed(): void {
    this.dirty = true;
    this.kick();
  }

  push(item: OutboxItem): void {
    this.items.push(item);
    this.kick();
  }

  /** Resolves once everything asked for so far was delivered (or given up). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private kick(): void {
    if (this.running !== undefined) return;
    this.running = this.pump()
      .catch((error: unknown) =>
        this.options.log.error({ runId: this.options.runId, err: String(error) }, 'Slack delivery stopped'),
      )
      .finally(() => {
        this.running = undefined;
        if (!this.parentRefused && (this.items.length > 0 || this.dirty)) this.kick();
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.parentRefused) {
        this.items.length = 0;
        this.dirty = false;
        return;
      }
      if (this.parentTs === undefined) {
        await this.postParent();
        continue;
      }
      const item = this.items.shift();
      if (item !== undefined) {
        await this.deliver(item, this.parentTs);
        continue;
      }
      if (!this.dirty) return;
      const wait = this.lastUpdateAt + this.options.updateIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.updateParent(this.parentTs);
    }
  }

  private async postParent(): Promise<void> {
    // Changes that arrive while the post is in flight mark the parent dirty again and are edited in next.
    this.dirty = false;
    const message = this.options.render();
    try {
      const result = await this.options.sender.call('chat.postMessage', {
        channel: this.options.channel,
        ...message,
      });
      this.parentTs = String(result.ts);
      this.lastSent = JSON.stringify(message);
      this.lastUpdateAt = Date.now();
      await this.options
        .parentPosted(this.parentTs)
        .catch((error: unknown) =>
          this.options.log.warn(
            { runId: this.options.runId, err: String(error) },
            'could not record the parent message',
          ),
        );
    } catch (error) {
      this.parentRefused = true;
      this.options.log.error(
        { runId: this.options.runId, channel: this.options.channel, err: String(error) },
        error instanceof SlackRefusedError && /not_in_channel|channel_not_found/.test(error.slackError)
          ? 'cannot post in the channel: invite the bot to it (/invite @gitspaces)'
          : 'could not post the parent message',
      );
    }
  }

  private async updateParent(ts: string): Promise<void> {
    this.dirty = false;
    const message = this.options.render();
    const json = JSON.stringify(message);
    // A resumed run replays finished steps: an edit that changes nothing is not worth a call.
    if (json === this.lastSent) return;
    this.lastUpdateAt = Date.now();
    await this.guard('chat.update', () =>
      this.options.sender.call('chat.update', { channel: this.options.channel, ts, ...message }),
    );
    this.lastSent = json;
  }

  private async deliver(item: OutboxItem, parentTs: string): Promise<void> {
    if (item.kind === 'edit') {
      const ts = item.ts();
      if (ts === undefined) return;
      await this.guard('chat.update', () =>
        this.options.sender.call('chat.update', { channel: this.options.channel, ts, ...item.message }),
      );
      return;
    }
    const args = {
      channel: this.options.channel,
      thread_ts: parentTs,
      ...item.message,
      ...(item.broadcast ? { reply_broadcast: true } : {}),
    };
    const result = await this.guard('chat.postMessage', () =>
      this.options.sender.call('chat.postMessage', args),
    );
    if (result !== undefined && item.posted !== undefined) {
      await item
        .posted(String(result.ts))
        .catch((error: unknown) =>
          this.options.log.warn(
            { runId: this.options.runId, err: String(error) },
            'could not record a thread message',
          ),
        );
    }
  }

  /** A refused message is logged and skipped so that the ones after it still go out. */
  private async guard<T>(method: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      this.options.log.error(
        { runId: this.options.runId, method, err: String(error) },
        'Slack refused a message',
      );
      return undefined;
    }
  }
}
