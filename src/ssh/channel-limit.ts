/**
 * Caps the channels open on one connection. OpenSSH's sshd allows 10 sessions per connection
 * (`MaxSessions`) and refuses the eleventh, so callers beyond the cap wait their turn instead.
 */
export class ChannelLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  /** Resolves with a release function once a channel may be opened; releasing twice is harmless. */
  async acquire(): Promise<() => void> {
    if (this.active < this.max) this.active += 1;
    // A released slot passes straight to the next waiter, so a newcomer cannot slip in between.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }
}
