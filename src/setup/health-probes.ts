import { GitspacesError } from '../errors.js';
import { command, quote } from './shell.js';
import type { StepContext } from './steps/step.js';
import { REFUSAL_PATTERN, refusalIn, type TokenRefusal } from './token-refusal.js';
import { tail } from './vm-shell.js';

type ProbeContext = Pick<StepContext, 'vm' | 'remote' | 'redactor'>;

/** curl, else wget; exit 127 with a word of our own when the VM has neither. */
const fetchScript = (url: string) =>
  [
    `if command -v curl >/dev/null 2>&1; then curl -fsS --max-time 5 ${quote(url)}`,
    `elif command -v wget >/dev/null 2>&1; then wget -q -T 5 -O - ${quote(url)}`,
    "else echo 'gitspaces-bot: neither curl nor wget' >&2; exit 127; fi",
  ].join('; ');

/**
 * Whether `http://127.0.0.1:<port><path>` answers 2xx on the VM. Asked through the SSH connection
 * (direct-tcpip), so it needs no tool on the VM; where the VM's sshd does not forward, curl or wget on the
 * VM asks instead, and a VM with neither is told what to install.
 */
export async function answersOnVm(ctx: ProbeContext, port: number, path: string): Promise<boolean> {
  if (ctx.remote.httpGet) {
    try {
      const answer = await ctx.remote.httpGet(port, path, 5_000);
      return answer !== undefined && answer.status >= 200 && answer.status < 300;
    } catch (error) {
      if (!(error instanceof GitspacesError && error.code === 'FORWARDING_REFUSED')) throw error;
    }
  }
  const url = `http://127.0.0.1:${port}${path}`;
  const result = await ctx.vm.script(fetchScript(url), { allowFail: true, timeoutMs: 15_000 }, `GET ${url}`);
  if (result.code === 127) {
    throw new GitspacesError(
      'TOOL_MISSING',
      `Cannot check ${url} on the VM: its sshd does not forward ports (AllowTcpForwarding) and it has neither curl nor wget. Install curl on the VM (\`apt-get install curl\`) or allow TCP forwarding for ${ctx.vm.user}, then run setup again.`,
    );
  }
  return result.code === 0;
}

export type DelegateHealth = 'healthy' | 'not-yet' | 'token-refused';

const HEALTHY_MARK = 'gitspaces-bot: healthy';

/**
 * Harness's refusals anywhere in the container's log: its token is fixed when it is created (a new token
 * makes a new container), so a token refused once stays refused. Read from Docker's json-file log files
 * themselves: `docker logs` decodes every line, about 3 s for a log at its 100 MB bound (bench 10f), where
 * grep takes a blink. A container with no such file (another log driver) is read through `docker logs`.
 */
function refusalScan(name: string): string {
  const pattern = quote(REFUSAL_PATTERN);
  return [
    `f=$(${command('docker', 'inspect', '--type', 'container', '--format', '{{.LogPath}}', name)})`,
    `if [ -n "$f" ] && [ -f "$f" ]; then grep -h -m 1 -E ${pattern} "$f" "$f".[0-9]* 2>/dev/null`,
    `else docker logs ${quote(name)} 2>&1 | grep -E -m 1 ${pattern}; fi`,
  ].join('; ');
}

/** A line of a json-file log as the container printed it; any other line as it is. */
function printed(line: string): string {
  if (!line.startsWith('{"log":')) return line;
  try {
    return String((JSON.parse(line) as { log: unknown }).log).trimEnd();
  } catch {
    return line;
  }
}

/**
 * The delegate's own health endpoint (port 3460 is not published: asked inside the container), or else
 * its registration logged since the container's current start: a line left by an earlier start says
 * nothing about now. A delegate that answers is also asked whether Harness refused its token: a revoked or
 * expired token freezes it while its health endpoint still answers. One command per probe.
 */
export async function delegateHealth(
  ctx: ProbeContext,
  name: string,
): Promise<{ health: DelegateHealth; refusal?: TokenRefusal; log: string }> {
  const script = [
    `${command('docker', 'exec', name, 'curl', '-fs', '--max-time', '5', 'localhost:3460/api/health')} >/dev/null 2>&1 && answers=1`,
    `[ -n "$answers" ] && { ${refusalScan(name)}; echo ${quote(HEALTHY_MARK)}; exit 0; }`,
    `started=$(${command('docker', 'inspect', '--type', 'container', '--format', '{{.State.StartedAt}}', name)}) || exit 1`,
    `docker logs --tail 200 --since "$started" ${quote(name)} 2>&1`,
  ].join('\n');
  const result = await ctx.vm.script(
    script,
    { root: true, allowFail: true, timeoutMs: 20_000 },
    `health of ${name}`,
  );
  const answers = result.stdout.includes(HEALTHY_MARK);
  const lines = result.stdout.split('\n').filter((line) => line !== HEALTHY_MARK);
  const log = ctx.redactor.redact(tail(lines.map(printed).join('\n'), 20));
  const refusal = refusalIn(result.stdout);
  if (refusal !== undefined) return { health: 'token-refused', refusal, log };
  if (answers) return { health: 'healthy', log: '' };
  return { health: /Delegate registered with id/.test(result.stdout) ? 'healthy' : 'not-yet', log };
}
