/**
 * The messages of one run: the parent message first (posted if the run has none yet), then thread replies
 * and edits in the order they were asked for, one at a time; beside them, never in their way, the parent's
 * checklist edited in place at most once per `updateIntervalMs` with the state that is latest when Slack's
 * limit lets the edit go (intermediate states are skipped, not queued). Nothing here throws to the caller:
 * the run never waits for Slack.
 */
import { messageDigest, type SlackMessage } from '../blocks/run-message.js';
import { Priority, SlackRefusedError, type SlackSender } from '../delivery/slack-sender.js';
import type { Log } from '../log.js';

export type OutboxItem =
  | {
      kind: 'reply';
      message: SlackMessage;
      broadcast?: boolean;
      /** @defaultValue Priority.normal */
      priority?: Priority;
      posted?: (ts: string) => Promise<void>;
      /** Slack refused it (or the process is closing): it was not posted. */
      gaveUp?: () => void;
    }
  | { kind: 'edit'; ts: () => string | undefined; message: SlackMessage };

/** A parent message another process posted: its ts and, when recorded, the digest of what it shows. */
export interface AdoptedParent {
  ts: string;
  shows: string | undefined;
}

export interface RunOutboxOptions {
  runId: string;
  sender: SlackSender;
  channel: string;
  parentTs: string | undefined;
  /** The parent message as it should look now. */
  render: () => SlackMessage;
  /**
   * When the run was asked for: its parent and approval request go ahead of younger runs' (the rest, edits
   * included, go in the order they were asked for, so that two processes' edits of one run never swap).
   */
  since: number;
  /** Records a parent message this outbox posted and what it shows (so every process edits the same one). */
  parentPosted: (ts: string, shows: string) => Promise<void>;
  /** True once the parent shows what a person must see now (a final state, a wait for approval). */
  settled: () => boolean;
  /**
   * Before this process posts a parent: the one another process posted meanwhile (to adopt, with what it
   * showed when posted), or undefined once this process may post (it then holds the right until
   * `parentPosted` returns).
   */
  claimParent?: () => Promise<AdoptedParent | undefined>;
  /** Told after each edit of the parent that Slack took. */
  edited?: () => void;
  /** True when another process has moved the run on since this one last reported it: its edits would be stale. */
  superseded?: () => Promise<boolean>;
  updateIntervalMs: number;
  log: Log;
}

export class RunOutbox {
  private parentTs: string | undefined;
  /** True when Slack refused to post the parent (e.g. the bot is not in the channel): nothing more is tried. */
  private parentRefused = false;
  private readonly items: OutboxItem[] = [];
  private dirty = false;
  /** The `messageDigest` of what the parent shows, when known. */
  private lastSent: string | undefined;
  private lastUpdateAt = 0;
  private running: Promise<void> | undefined;
  private updating: Promise<void> | undefined;

  constructor(private readonly options: RunOutboxOptions) {
    this.parentTs = options.parentTs;
  }

  get parent(): string | undefined {
    return this.parentTs;
  }

  /** True while messages are being delivered or an edit is waiting for its turn. */
  get busy(): boolean {
    return this.running !== undefined || this.updating !== undefined;
  }

  /**
   * Adopts a parent message another process posted (learned from the run record). Nobody has edited it
   * yet (nobody knew it), so it still shows what it was posted with: an edit to the same is not sent.
   */
  adoptParent(parent: AdoptedParent | undefined): void {
    if (this.parentTs !== undefined || parent === undefined) return;
    this.parentTs = parent.ts;
    this.lastSent = parent.shows;
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
    while (this.busy) await Promise.all([this.running, this.updating]);
  }

  private kick(): void {
    if (this.parentTs === undefined || this.items.length > 0) this.kickItems();
    this.kickUpdate();
  }

  private kickItems(): void {
    if (this.running !== undefined) return;
    this.running = this.pump()
      .catch((error: unknown) =>
        this.options.log.error({ runId: this.options.runId, err: String(error) }, 'Slack delivery stopped'),
      )
      .finally(() => {
        this.running = undefined;
        if (!this.parentRefused && this.items.length > 0) this.kickItems();
        else this.kickUpdate();
      });
  }

  private kickUpdate(): void {
    if (this.updating !== undefined || !this.dirty || this.parentRefused) return;
    const ts = this.parentTs;
    if (ts === undefined) return;
    this.updating = this.updateParent(ts)
      .catch((error: unknown) =>
        this.options.log.error({ runId: this.options.runId, err: String(error) }, 'Slack delivery stopped'),
      )
      .finally(() => {
        this.updating = undefined;
        this.kickUpdate();
      });
  }

  /** The parent first, then replies and edits in order. */
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
      this.kickUpdate();
      const item = this.items.shift();
      if (item === undefined) return;
      await this.deliver(item, this.parentTs);
    }
  }

  private async postParent(): Promise<void> {
    const adopted = await this.options.claimParent?.().catch(() => undefined);
    if (adopted !== undefined) {
      this.adoptParent(adopted);
      return;
    }
    let shows = '';
    try {
      // The parent shows the run as it is when the channel's turn comes, not as it was when asked for.
      const result = await this.options.sender.callLatest(
        'chat.postMessage',
        () => {
          // Changes that arrive while the post is in flight mark the parent dirty again and are edited in next.
          this.dirty = false;
          const message = this.options.render();
          shows = messageDigest(message);
          return { channel: this.options.channel, ...message };
        },
        { priority: Priority.urgent, since: this.options.since },
      );
      this.parentTs = String(result?.ts);
      this.lastSent = shows;
      this.lastUpdateAt = Date.now();
      await this.options
        .parentPosted(this.parentTs, shows)
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

  /** One edit of the parent, made from the state that is latest when Slack's limit lets it go. */
  private async updateParent(ts: string): Promise<void> {
    const wait = this.lastUpdateAt + this.options.updateIntervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    let sent: string | undefined;
    let superseded = false;
    const result = await this.guard('chat.update', () =>
      this.options.sender.callLatest(
        'chat.update',
        () => {
          this.dirty = false;
          // The run went on in another worker, which edits the parent itself: an edit from here would undo it.
          if (superseded) return undefined;
          const message = this.options.render();
          const shows = messageDigest(message);
          // A resumed run replays finished steps, and a parent may have been posted with the latest state:
          // an edit that changes nothing is not worth a call.
          if (shows === this.lastSent) return undefined;
          sent = shows;
          return { channel: this.options.channel, ts, ...message };
        },
        {
          priority: () => (this.options.settled() ? Priority.normal : Priority.later),
          // Asked when the edit's turn comes, which can be minutes later when many runs share the edits.
          beforeSend: async () => {
            superseded = (await this.options.superseded?.().catch(() => false)) ?? false;
          },
        },
      ),
    );
    if (sent !== undefined && result !== undefined) {
      this.lastSent = sent;
      this.lastUpdateAt = Date.now();
      this.options.edited?.();
    }
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
      this.options.sender.call('chat.postMessage', args, {
        priority: item.priority ?? Priority.normal,
        // What a person waits for goes in the order the runs were asked for.
        ...(item.priority === Priority.urgent ? { since: this.options.since } : {}),
      }),
    );
    if (result === undefined) item.gaveUp?.();
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
