import { GitspacesError } from '../errors.js';
import { guardRemote, throwIfAbandoned } from './abandon.js';
import { type ContainerChange, changePlan } from './change/change-plan.js';
import { fingerprint } from './fingerprint.js';
import { RunPulls } from './image-pull.js';
import { openAsFound, openLettingIn } from './let-key-in.js';
import type { HostKey, JournalState, RemoteHost, ReportedError, RunResult, StepRecord } from './ports.js';
import type { Preflight } from './preflight.js';
import type { Redactor } from './redactor.js';
import type { EngineDeps, RunInput } from './run-input.js';
import type { SetupSettings } from './settings.js';
import { STEP_IDS, type StepId, type StepState } from './step-ids.js';
import { delegateStep } from './steps/delegate.js';
import { delegateHealthStep } from './steps/health.js';
import type { StepContext, VmStep } from './steps/index.js';
import { VmShell } from './vm-shell.js';

const BACKOFF_MS = [1000, 3000, 8000];

/** Runs steps one at a time for the engine: timing, journal, reporting, reconnecting after a dropped session. */
export class StepRunner {
  private remote: RemoteHost | undefined;
  private pre: Preflight | undefined;
  private readonly changed = new Set<StepId>();
  hostKey: HostKey | undefined;
  private via: string | undefined;
  private user: string;
  /** Progress of a pull goes to the step that is running when it comes. */
  private current: StepId = 'preflight';
  readonly pulls: RunPulls;
  settings: SetupSettings;

  constructor(
    private readonly input: RunInput,
    private readonly deps: EngineDeps,
    private readonly redactor: Redactor,
    readonly journal: JournalState,
  ) {
    this.settings = input.settings;
    this.user = input.settings.sshUser;
    this.pulls = new RunPulls(
      () => this.context().vm,
      deps.clock,
      (text) => void this.deps.reporter.stepOutput?.(this.current, this.redactor.redact(text)),
    );
  }

  isDone(id: StepId): boolean {
    const state = this.journal.steps[id]?.state;
    return state === 'done' || state === 'unchanged';
  }

  /** A resumed run shows what earlier attempts already did. */
  async replayDone(): Promise<void> {
    for (const id of STEP_IDS) {
      const record = this.journal.steps[id];
      if (record && this.isDone(id) && id !== 'preflight' && id !== 'connect')
        await this.deps.reporter.stepFinished(record);
    }
  }

  record(record: StepRecord): StepRecord {
    this.journal.steps[record.id] = record;
    return record;
  }

  async finish(id: StepId, state: StepState, summary: string, durationMs: number | undefined): Promise<void> {
    // A step done by a worker that lost the run is found done by the one that holds it; only that one says so.
    throwIfAbandoned(this.deps.signal);
    const record = this.record({ id, state, durationMs, summary: this.redactor.redact(summary) });
    if (state === 'done') this.changed.add(id);
    const next = STEP_IDS[STEP_IDS.indexOf(id) + (state === 'done' || state === 'unchanged' ? 1 : 0)];
    this.journal.step = next ?? id;
    if (this.input.mode === 'setup') await this.deps.journal.save(this.journal);
    await this.deps.reporter.stepFinished(record);
  }

  async start(id: StepId): Promise<number> {
    throwIfAbandoned(this.deps.signal);
    const moved = this.journal.step !== id;
    this.journal.step = id;
    if (this.input.mode === 'setup' && moved) await this.deps.journal.save(this.journal);
    this.current = id;
    await this.deps.reporter.stepStarted(id);
    return this.deps.clock.now();
  }

  /** Preflight: always run (it holds the secrets for this run in memory), never changes anything. */
  async once<T>(id: StepId, work: () => Promise<{ found: T; summary: string }>): Promise<T> {
    const started = await this.start(id);
    const { found, summary } = await work();
    await this.finish(id, 'unchanged', summary, this.deps.clock.now() - started);
    return found;
  }

  /** Connect: opens the session (letting the bot's key in when the VM refuses it) and checks sudo. */
  async connect(pre: Preflight): Promise<void> {
    this.pre = pre;
    const started = await this.start('connect');
    let change: string | undefined;
    const lookup = {
      keys: this.deps.keys,
      vm: pre.vm,
      privateKey: pre.privateKey,
      user: this.input.settings.sshUser,
    };
    const open = (user: string) => this.open(user);
    // A plan changes nothing: it logs in only where the key is let in already.
    const letIn = async () =>
      this.input.mode === 'plan'
        ? { change: undefined, user: await openAsFound(open, lookup) }
        : openLettingIn(open, {
            ...lookup,
            clock: this.deps.clock,
            signal: this.deps.signal,
            say: async (text) => this.deps.reporter.stepOutput?.('connect', text),
          });
    await this.withRetries('connect', async () => {
      change = (await letIn()).change ?? change;
    });
    await this.withRetries('connect', () => this.context().vm.assertSudo());
    const fp = this.hostKey ? ` (${this.fingerprint()})` : '';
    const via = this.via ? ` ${this.via}` : '';
    const summary = `${this.user}@${pre.host}:${pre.port}${via}, host key matches${fp}`;
    const state = change === undefined ? 'unchanged' : 'done';
    const elapsed = this.deps.clock.now() - started;
    await this.finish('connect', state, change === undefined ? summary : `${summary}; ${change}`, elapsed);
  }

  private fingerprint(): string {
    return this.hostKey ? fingerprint(this.hostKey) : '';
  }

  /** Opens a session as `user` (who logged in last: SSH_USER, or the one OS Login gave the bot). */
  private async open(user = this.user): Promise<void> {
    const pre = this.pre as Preflight;
    await this.remote?.close().catch(() => undefined);
    throwIfAbandoned(this.deps.signal);
    const connected = await this.deps.connect({
      host: pre.host,
      port: pre.port,
      vm: pre.vm,
      user,
      privateKey: pre.privateKey,
      pin: pre.pin,
    });
    this.user = user;
    this.remote = connected.remote;
    this.hostKey = connected.hostKey;
    this.via = connected.via;
  }

  private context(): StepContext {
    const remote = guardRemote(this.remote as RemoteHost, this.deps.signal);
    const pre = this.pre as Preflight;
    return {
      vm: new VmShell(remote, this.redactor),
      remote,
      runId: this.input.runId,
      settings: this.settings,
      material: pre.material,
      clock: this.deps.clock,
      redactor: this.redactor,
      signal: this.deps.signal,
      pulls: this.pulls,
    };
  }

  /** Retries work that failed because the session dropped or a command hung, reconnecting in between. */
  private async withRetries<T>(id: StepId, work: (attempt: number) => Promise<T>): Promise<T> {
    const attempts = this.deps.attempts ?? BACKOFF_MS.length + 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(attempt);
      } catch (error) {
        throwIfAbandoned(this.deps.signal);
        if (!(error instanceof GitspacesError) || !error.retryable || attempt >= attempts) throw error;
        const wait = BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)] ?? 1000;
        await this.deps.reporter.stepOutput?.(
          id,
          `${error.message} Retrying in ${wait / 1000}s (attempt ${attempt + 1} of ${attempts}).`,
        );
        await this.deps.clock.sleep(wait, this.deps.signal).catch(() => throwIfAbandoned(this.deps.signal));
        if (id !== 'connect') await this.open();
      }
    }
  }

  async vmStep(step: VmStep): Promise<void> {
    if (this.isDone(step.id)) return;
    const started = await this.start(step.id);
    const elapsed = () => this.deps.clock.now() - started;
    const found = await this.withRetries(step.id, () => step.check(this.context()));
    if (found.ok) {
      // Right after its container was (re)created, a passing health check is news, not "already in place".
      const fresh = step.after !== undefined && this.changed.has(step.after);
      const summary = await this.settle(step, found.summary);
      return this.finish(step.id, fresh ? 'done' : 'unchanged', summary, elapsed());
    }
    if (this.input.mode === 'plan')
      return this.finish(step.id, 'pending', `would change: ${found.summary}`, elapsed());
    const did = await this.withRetries(step.id, async (attempt) => {
      // The dropped attempt may have done the work before the connection went: look before applying again.
      const now = attempt === 1 ? found : await step.check(this.context());
      return now.ok ? `${now.summary} (done before the connection dropped)` : step.apply(this.context(), now);
    });
    const after = await this.withRetries(step.id, () => step.check(this.context()));
    if (!after.ok) {
      throw new GitspacesError(
        'COMMAND_FAILED',
        `${step.id} was applied (${did}) but its check still fails: ${after.summary}.`,
      );
    }
    return this.finish(step.id, 'done', await this.settle(step, did), elapsed());
  }

  /** A step's tidying up once it passed (a replaced container's kept predecessor goes), in setup only. */
  private async settle(step: VmStep, summary: string): Promise<string> {
    if (this.input.mode !== 'setup' || !step.settle) return summary;
    const settle = step.settle.bind(step);
    const note = await this.withRetries(step.id, () => settle(this.context()));
    return note === undefined ? summary : `${summary}; ${note}`;
  }

  /** The delegate already runs with the wanted settings and is healthy: a re-run needs no approval. */
  async alreadyInstalled(): Promise<boolean> {
    const ctx = this.context();
    return (await delegateStep.check(ctx)).ok && (await delegateHealthStep.check(ctx)).ok;
  }

  /** Old → new per container as the VM is now; read before any step changes anything. */
  changes(): Promise<ContainerChange[]> {
    return this.withRetries(this.current, () => changePlan(this.context()));
  }

  /** The run's settings with the images it installs (an upgrade's, or those a container was labelled with). */
  async chooseImages(choose: (ctx: StepContext) => Promise<SetupSettings>): Promise<void> {
    this.settings = await this.withRetries(this.current, () => choose(this.context()));
  }

  async failed(error: GitspacesError): Promise<Omit<RunResult, 'runId' | 'vm' | 'steps' | 'unchanged'>> {
    const step = this.journal.step ?? 'preflight';
    const reported: ReportedError = {
      code: error.code,
      message: this.redactor.redact(error.message),
      detail: error.detail === undefined ? undefined : this.redactor.redact(error.detail),
      retryable: error.retryable,
    };
    const record = this.record({
      id: step,
      state: 'failed',
      durationMs: undefined,
      summary: reported.message,
    });
    if (this.input.mode === 'setup') await this.deps.journal.save(this.journal);
    await this.deps.reporter.stepFailed(record, reported);
    return { state: 'failed', step, error: reported };
  }

  async close(): Promise<void> {
    this.pulls.stop();
    await this.remote?.close().catch(() => undefined);
  }

  result(ended: Omit<RunResult, 'runId' | 'vm' | 'steps' | 'unchanged'>): RunResult {
    const steps = STEP_IDS.map((id) => this.journal.steps[id]).filter(
      (r): r is StepRecord => r !== undefined,
    );
    return {
      runId: this.input.runId,
      vm: this.input.settings.vm,
      ...ended,
      steps,
      unchanged: ended.state === 'succeeded' && steps.every((s) => s.state === 'unchanged'),
    };
  }
}
