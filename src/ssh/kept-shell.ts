import type { ShellSession } from './shell-session.js';

/**
 * One long-lived shell of a connection, handed out for one command at a time. Opened on first use; while it
 * runs a command the caller gets none (and uses a session of its own); a server that would not run it is
 * not asked again.
 */
export class KeptShell {
  private shell: ShellSession | undefined;
  private opening: Promise<ShellSession | undefined> | undefined;
  private refused = false;

  constructor(private readonly open: () => Promise<ShellSession | undefined>) {}

  /** The shell, marked busy, or undefined when it is busy, opening or refused. Set `busy = false` after. */
  async take(): Promise<ShellSession | undefined> {
    const take = () => {
      const shell = this.shell;
      if (shell === undefined || !shell.usable) return undefined;
      shell.busy = true;
      return shell;
    };
    if (this.refused) return undefined;
    const free = take();
    if (free !== undefined) return free;
    // A shell that is neither busy nor usable has ended: open another.
    if (this.shell !== undefined && !this.shell.busy) this.shell = undefined;
    if (this.shell !== undefined || this.opening !== undefined) return undefined;
    const opening = this.open();
    this.opening = opening;
    try {
      this.shell = await opening;
      if (this.shell === undefined) this.refused = true;
    } finally {
      this.opening = undefined;
    }
    return take();
  }
}
