/**
 * Reads typed values from the environment, collecting every problem (a value of the wrong shape falls back
 * to its default) so that the configuration is refused once with all of them listed.
 */
import { parseDuration } from './duration.js';

export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  str(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }
  def(name: string, fallback: string): string {
    return this.str(name) ?? fallback;
  }
  int(name: string, fallback: number, min: number, max: number): number {
    const text = this.str(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${text} is not a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }
  duration(name: string, fallback: string): number {
    const text = this.def(name, fallback);
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      this.problems.push(`${name}=${text} is not a duration (use e.g. 90s, 5m, 24h)`);
      return parseDuration(fallback) ?? 0;
    }
    return ms;
  }
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const text = this.str(name);
    if (text === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(text)) {
      this.problems.push(`${name}=${text} must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return text as T;
  }
  /** `0` turns the watch off; below 10 s probes would outrun Google's 10 guest-attribute reads a minute. */
  watchInterval(name: string, fallback: string): number {
    const text = this.def(name, fallback);
    if (text.trim() === '0') return 0;
    const ms = this.duration(name, fallback);
    if (ms > 0 && ms < 10_000) {
      this.problems.push(`${name}=${text} is too short: use 10s or more (or 0 to turn the watch off)`);
      return parseDuration(fallback) ?? 0;
    }
    return ms;
  }
  bool(name: string, fallback: boolean): boolean {
    const text = this.str(name)?.toLowerCase();
    if (text === undefined) return fallback;
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    this.problems.push(`${name}=${text} must be true or false`);
    return fallback;
  }
  url(name: string, fallback?: string): string | undefined {
    const text = this.str(name) ?? fallback;
    if (text === undefined) return undefined;
    try {
      const url = new URL(text);
      if (!['http:', 'https:', 'redis:', 'rediss:', 'ws:', 'wss:'].includes(url.protocol))
        throw new Error('scheme');
      return text;
    } catch {
      this.problems.push(`${name}=${text} is not a URL (e.g. http://127.0.0.1:8085)`);
      return fallback;
    }
  }
  ids(name: string, pattern: RegExp, what: string): string[] | undefined {
    const text = this.str(name);
    if (text === undefined) return undefined;
    const ids = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = ids.filter((id) => !pattern.test(id));
    if (bad.length > 0) this.problems.push(`${name} has ${bad.join(', ')}: expected ${what}`);
    return ids.filter((id) => pattern.test(id));
  }
  require(name: string, value: unknown, why: string): void {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
      this.problems.push(`${name} is missing (${why})`);
    }
  }
}
