import { GitspacesError } from '../errors.js';
import type { Clock } from './ports.js';
import { command } from './shell.js';
import type { VmShell } from './vm-shell.js';

/** Pulling a large image over a slow link takes a while; a stalled one ends with the step. */
const PULL_TIMEOUT_MS = 30 * 60_000;
const PROGRESS_EVERY_MS = 5_000;

/** Counts layers in `docker pull`'s plain (non-terminal) output: one `<layer>: <status>` line per change. */
export class PullProgress {
  private readonly layers = new Map<string, boolean>();

  add(text: string): void {
    for (const line of text.split('\n')) {
      const found = /^([0-9a-f]{12}): (.+)$/.exec(line.trim());
      if (!found?.[1] || !found[2]) continue;
      const done = /^(Pull complete|Already exists)/.test(found[2]);
      this.layers.set(found[1], done || (this.layers.get(found[1]) ?? false));
    }
  }

  get total(): number {
    return this.layers.size;
  }

  get done(): number {
    return [...this.layers.values()].filter(Boolean).length;
  }
}

/** What to do about a failed pull, from Docker's own message. */
function pullFix(output: string, image: string): string {
  if (/no space left on device/i.test(output))
    return 'The VM is out of disk space: free some (`docker system prune`) or grow its disk, then run setup again.';
  if (/toomanyrequests|pull rate limit/i.test(output))
    return "Docker Hub limits pulls without a login per IP address (every VM behind one Cloud NAT address shares it): wait and run setup again, log the VM's Docker in (`sudo docker login`), or copy the image to Artifact Registry and set RUNNER_IMAGE / DELEGATE_IMAGE to it.";
  if (/manifest unknown|not found|does not exist|pull access denied|unauthorized|denied/i.test(output))
    return `Check the image reference ${image} (RUNNER_IMAGE / DELEGATE_IMAGE), and that the VM may read it (Artifact Registry: the VM's service account needs roles/artifactregistry.reader).`;
  if (
    /dial tcp|i\/o timeout|no such host|TLS handshake|connection refused|network is unreachable/i.test(output)
  )
    return "The VM cannot reach the image's registry: check its route to the internet (Cloud NAT) or a registry mirror.";
  return 'Run `docker pull` on the VM to see more, fix what it says, and run setup again.';
}

const SIZE_MARK = 'gitspaces-bot-size=';
export const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

/**
 * `docker pull`, with progress as "layers done / total" every few seconds, then the image's size. A failed
 * pull fails with Docker's message and what to do about it.
 */
export async function pullImage(
  vm: VmShell,
  image: string,
  clock: Pick<Clock, 'now'>,
  say: (text: string) => void,
): Promise<string> {
  const progress = new PullProgress();
  const started = clock.now();
  let last = started;
  // The size is asked in the same command: one round trip and one `sudo` fewer.
  const size = command('docker', 'image', 'inspect', '--format', `${SIZE_MARK}{{.Size}}`, image);
  const script = `${command('docker', 'pull', image)} || exit $?; ${size} 2>/dev/null || true`;
  const result = await vm.script(
    script,
    {
      root: true,
      allowFail: true,
      timeoutMs: PULL_TIMEOUT_MS,
      onOutput: (text) => {
        progress.add(text);
        if (clock.now() - last < PROGRESS_EVERY_MS || progress.total === 0) return;
        last = clock.now();
        say(`pulling ${image}: ${progress.done}/${progress.total} layers`);
      },
    },
    `docker pull ${image}`,
  );
  if (result.code !== 0) {
    const failure = vm.failure(`docker pull ${image}`, result);
    const message = /Error response from daemon: (.+)/.exec(`${result.stderr}\n${result.stdout}`)?.[1];
    throw new GitspacesError(
      'IMAGE_PULL_FAILED',
      `Docker could not pull ${image}${message ? `: ${message.trim()}` : ''}. ${pullFix(`${result.stderr}${result.stdout}`, image)}`,
      { detail: failure.detail },
    );
  }
  const bytes = Number(new RegExp(`${SIZE_MARK}(\\d+)`).exec(result.stdout)?.[1]);
  const layers = progress.total > 0 ? `${progress.total} layers` : 'up to date';
  const seconds = ((clock.now() - started) / 1000).toFixed(1);
  return `pulled ${image} (${layers}${Number.isFinite(bytes) && bytes > 0 ? `, ${megabytes(bytes)}` : ''}) in ${seconds}s`;
}

/**
 * A run's pulls, so that the one started while the run waits for approval (the delegate image) is what the
 * step that needs the image waits for, not a second pull.
 */
export class RunPulls {
  private readonly pulls = new Map<string, Promise<string>>();
  private stopped = false;

  constructor(
    private readonly vm: () => VmShell,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly say: (text: string) => void,
  ) {}

  /** The run has ended: a pull in the background starts no further command on the VM. */
  stop(): void {
    this.stopped = true;
  }

  private shell(): VmShell {
    if (this.stopped) throw new Error('the run has ended');
    return this.vm();
  }

  /**
   * Pulls `image` unless it is on the VM already; resolves with what happened, rejects as `pullImage`.
   * `local` is what the caller saw on the VM just before (undefined: look first).
   */
  ensure(image: string, local?: boolean): Promise<string> {
    const running = this.pulls.get(image);
    if (running) return running;
    if (local === true) return Promise.resolve(`${image} is on the VM already`);
    const pull = (async () => {
      if (local === undefined && (await this.isLocal(image))) return `${image} is on the VM already`;
      const pulled = await pullImage(this.shell(), image, this.clock, this.say);
      this.say(pulled);
      return pulled;
    })();
    this.pulls.set(image, pull);
    // A failed pull is tried afresh by the next caller (after a reconnect, say).
    pull.catch(() => {
      if (this.pulls.get(image) === pull) this.pulls.delete(image);
    });
    return pull;
  }

  private async isLocal(image: string): Promise<boolean> {
    const argv = ['docker', 'image', 'inspect', '--format', '{{.Id}}', image];
    const local = await this.shell().run(argv, { root: true, allowFail: true });
    return local.code === 0 && local.stdout.trim() !== '';
  }
}
