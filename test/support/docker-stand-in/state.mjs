/**
 * The stand-in's "daemon": one JSON file under FAKE_DOCKER_STATE, read and written under a mkdir lock so that
 * parallel docker calls (several SSH sessions at once) never lose each other's changes.
 */
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const STALE_LOCK_MS = 5000;

export function stateDir(env) {
  const dir = env.FAKE_DOCKER_STATE;
  if (!dir) throw new Error('FAKE_DOCKER_STATE is not set: point it at a directory for the stand-in state');
  return dir;
}

/** The directory may be shared by root (through sudo) and the login user: everyone may write. */
function ensureDir(dir) {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
}

export function recordCall(env, entry) {
  const dir = stateDir(env);
  ensureDir(dir);
  const file = join(dir, 'calls.jsonl');
  const fresh = !existsSync(file);
  appendFileSync(file, `${JSON.stringify(entry)}\n`);
  if (fresh) chmodSync(file, 0o666);
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function lock(dir) {
  const lockDir = join(dir, 'state.lock');
  for (;;) {
    try {
      mkdirSync(lockDir);
      return () => rmdirSync(lockDir);
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A caller killed while holding the lock (a dropped SSH session) must not wedge the daemon.
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > STALE_LOCK_MS) rmdirSync(lockDir);
      } catch {}
      sleep(10);
    }
  }
}

const EMPTY = () => ({ containers: {}, networks: {}, images: {}, clock: '' });

/** Runs `change(state)` with the lock held and saves what it leaves in `state`. */
export function withState(env, change) {
  const dir = stateDir(env);
  ensureDir(dir);
  const unlock = lock(dir);
  try {
    const file = join(dir, 'state.json');
    const state = existsSync(file) ? { ...EMPTY(), ...JSON.parse(readFileSync(file, 'utf8')) } : EMPTY();
    // What the daemon did before an error stays done (a `run` whose start fails leaves a created container).
    try {
      return change(state);
    } finally {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`);
      renameSync(tmp, file);
    }
  } finally {
    unlock();
  }
}

/** What pulls find, set by tests: `registry.json` maps an image reference to its content (null: none). */
export function readRegistry(env) {
  const file = join(stateDir(env), 'registry.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}

export const hexId = () => randomBytes(32).toString('hex');

/**
 * Docker's RFC 3339 timestamps with nanoseconds. Each is later than the one before, so a `--since` of one
 * start's time never shows an earlier start's lines even within one millisecond.
 */
export function nextTime(state) {
  const now = BigInt(Date.now()) * 1_000_000n + BigInt(process.hrtime()[1] % 1_000_000);
  const last = state.clock ? parseTime(state.clock) : 0n;
  const ns = now > last ? now : last + 1n;
  state.clock = formatTime(ns);
  return state.clock;
}

export function formatTime(ns) {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${iso}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

/** RFC 3339 (any fraction, Z or offset), a unix timestamp with optional fraction, or a Go duration ago. */
export function parseTime(text) {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const rfc = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (rfc) {
    const seconds = BigInt(Date.parse(`${rfc[1]}${rfc[3]}`) / 1000);
    return seconds * 1_000_000_000n + BigInt((rfc[2] ?? '').padEnd(9, '0'));
  }
  const duration = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(text);
  if (duration) {
    const unit = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[duration[2]];
    return BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(Number(duration[1]) * unit));
  }
  return undefined;
}
