/**
 * What the runner failed to do in the last hour. drone-runner-aws answers /healthz with a static OK once it
 * listens, and asks Google nothing on a timer: when its credentials stop working (a service-account key
 * deleted, disabled or expired), a permission is taken away, a quota is used up or a zone has no room, new
 * Gitspaces fail to start while the runner looks healthy. Only its log tells. It logs with logrus, as text
 * (`level=error msg="google: failed to provision VM" error="googleapi: Error 403: …"`) and, on a request's
 * path, as JSON (`"level":"error"`).
 */
import { RUNNER_NAME } from './container-specs.js';
import type { Redactor } from './redactor.js';
import { command, quote } from './shell.js';
import type { VmShell } from './vm-shell.js';

export interface RunnerErrors {
  /** Error lines the runner logged in the last hour. */
  count: number;
  /** The last one, as `message: error` when it could be read so. */
  last: string;
  /** What usually causes it and what to do, when the error is one of the known kinds. */
  fix?: string;
}

export const ERRORS_WINDOW = 'the last hour';

const ERROR_LINE = 'level=(error|fatal)|"level": ?"(error|fatal)"';
const TAIL_LINES = 5000;

/**
 * The count of the last hour's error lines and the last one, or nothing when there were none. Of the log's
 * last 5,000 lines: Docker reads `--tail` from the end of the file, where `--since` alone decodes the whole
 * log (seconds over one at its 100 MB bound); a runner that logs more in an hour is counted short.
 */
export function runnerErrorsScript(name: string): string {
  const count = `awk '{ n++; last = $0 } END { if (n) printf "%d\\n%s\\n", n, last }'`;
  const logs = command('docker', 'logs', '--since', '1h', '--tail', String(TAIL_LINES), name);
  return `${logs} 2>&1 | grep -E ${quote(ERROR_LINE)} | ${count}`;
}

/** Known causes of the runner's failures with Google, and what to do about each. */
const CAUSES: Array<[RegExp, string]> = [
  [
    /invalid_grant|Invalid JWT|cannot fetch token|could not find default credentials|invalid_client/i,
    "Google refuses the runner's credentials (a service-account key deleted, disabled or expired): put a new key in RUNNER_SA_KEY_SECRET and run setup again",
  ],
  [
    /QUOTA_EXCEEDED|Quota '[^']*' exceeded/i,
    "a Compute Engine quota of the project is used up: raise it (IAM & Admin → Quotas) or lower the pool's size in the pool file",
  ],
  [
    /ZONE_RESOURCE_POOL_EXHAUSTED|stockout|does not have enough resources available/i,
    "the zone has no room for the pool's machine type now: list more zones under the pool's spec.zone",
  ],
  [
    /Error 403|PERMISSION_DENIED|Required '[^']*' permission/i,
    "Google refuses the runner's service account a permission, named in the error: grant it in IAM",
  ],
];

/** A logfmt field's value (`msg="…"` or `msg=word`). */
function field(line: string, name: string): string | undefined {
  const found = new RegExp(`(?:^|\\s)${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(line);
  if (!found) return undefined;
  return found[1] === undefined ? found[2] : found[1].replace(/\\(.)/g, '$1');
}

/** `message: error` from a logrus line, text or JSON; the line as it is when neither reads. */
function readable(line: string): string {
  let message: string | undefined;
  let error: string | undefined;
  if (line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as { msg?: unknown; error?: unknown };
      if (typeof entry.msg === 'string') message = entry.msg;
      if (typeof entry.error === 'string') error = entry.error;
    } catch {}
  } else {
    message = field(line, 'msg');
    error = field(line, 'error');
  }
  const text = message === undefined ? line : error === undefined ? message : `${message}: ${error}`;
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

export function parseRunnerErrors(stdout: string): RunnerErrors | undefined {
  const [count = '', ...rest] = stdout.split('\n');
  const n = Number(count.trim());
  const line = rest.join('\n').trim();
  if (!Number.isInteger(n) || n <= 0 || line === '') return undefined;
  const fix = CAUSES.find(([pattern]) => pattern.test(line))?.[1];
  return { count: n, last: readable(line), ...(fix === undefined ? {} : { fix }) };
}

/** The errors `vm-runner` logged in the last hour (redacted), when it logged any. */
export async function readRunnerErrors(vm: VmShell, redactor: Redactor): Promise<RunnerErrors | undefined> {
  const label = `errors of ${RUNNER_NAME}`;
  const found = await vm.script(runnerErrorsScript(RUNNER_NAME), { root: true, allowFail: true }, label);
  return parseRunnerErrors(redactor.redact(found.stdout));
}

/** "an error", "3 errors". */
export const errorCount = (n: number): string => (n === 1 ? 'an error' : `${n} errors`);

/** "logged 3 errors in the last hour; the last: google: failed to provision VM: googleapi: Error 403: …" */
export function describeRunnerErrors(e: RunnerErrors): string {
  return `logged ${errorCount(e.count)} in ${ERRORS_WINDOW}, so new Gitspaces may fail to start; the last: ${e.last}`;
}

/** The same, then what to do when the error is of a known kind: one line. */
export const describeWithFix = (e: RunnerErrors): string =>
  `${describeRunnerErrors(e)}${e.fix === undefined ? '' : ` — ${e.fix}`}`;
