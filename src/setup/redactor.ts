/**
 * Credentials in a URL (`https://user:token@host/…`): a container's log may carry a Gitspace's clone URL, a
 * secret the bot never held.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/**
 * Replaces every registered secret (and its base64 and base64url forms), and credentials in URLs, with `***`
 * in text that leaves the process: Slack messages, logs, terminal output, error details.
 */
export class Redactor {
  private readonly needles = new Set<string>();

  /** Registers a secret. Values shorter than 6 characters are ignored: they would mask ordinary words. */
  add(secret: string | Buffer | undefined): this {
    if (secret === undefined) return this;
    const text = Buffer.isBuffer(secret) ? secret.toString('utf8') : secret;
    for (const candidate of [text, text.trim()]) {
      if (candidate.length < 6) continue;
      this.needles.add(candidate);
      const b64 = Buffer.from(candidate, 'utf8').toString('base64');
      this.needles.add(b64);
      this.needles.add(b64.replace(/=+$/, ''));
      this.needles.add(Buffer.from(candidate, 'utf8').toString('base64url'));
      // Multi-line secrets (keys) also leak one line at a time.
      for (const line of candidate.split(/\r?\n/))
        if (line.trim().length >= 16) this.needles.add(line.trim());
    }
    return this;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const needle of [...this.needles].sort((a, b) => b.length - a.length)) {
      if (out.includes(needle)) out = out.split(needle).join('***');
    }
    return out.replace(URL_CREDENTIALS, '$1***@');
  }

  get size(): number {
    return this.needles.size;
  }
}
