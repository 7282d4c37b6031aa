/**
 * One probe of one watched VM: look at what is live (read-only checks, over SSH with the host keys kept from
 * the last look), decide what changed for the channel, hand the notices to Slack delivery under ids derived
 * from the probe, then record the result. A probe taken up again after its worker died sends the same ids,
 * which the delivery queue already holds, so no notice goes out twice. Two probes of one VM never run at
 * once: a short lease, renewed while the probe runs, lapses within seconds of a worker's death.
 */
import type { Redis } from 'ioredis';
import { asGitspacesError } from '../errors.js';
import type { HostKey } from '../setup/ports.js';
import type { VmStatus } from '../setup/probe.js';
import { decide, type Health, type Notice, type Outcome } from './verdict.js';
import type { WatchEntry, WatchStore } from './watch-store.js';

/** What the probe read on the VM, with the keys it pinned, who logged in, and the log tails of what is not healthy. */
export type Look = VmStatus & {
  published?: HostKey[] | undefined;
  user?: string | undefined;
  logs?: Record<string, string>;
};

export interface WatchNotice extends Notice {
  target: { vm: string; project: string | undefined; zone: string | undefined };
  /** Last log lines (redacted) of the containers the notice is about. */
  logs: Array<{ container: string; text: string }>;
}

export interface ProbeObserver {
  /** `diskPercent`: how full the disk of Docker's data was, when the probe could tell. */
  probed(vm: string, seconds: number, health: Health, diskPercent?: number): void;
  noticed(kind: Notice['kind']): void;
}

export interface ProbeDeps {
  store: WatchStore;
  redis: Redis;
  prefix: string;
  network: string;
  look(entry: WatchEntry): Promise<Look>;
  /** Queues a top-level message in the channel; the same id twice posts once. */
  notify(channel: string, notice: WatchNotice, id: string): Promise<void>;
  now(): number;
  observer?: ProbeObserver | undefined;
}

const LEASE_MS = 5000;

/** Holds the VM's probe lease while `work` runs; undefined when another probe holds it. */
async function leased<T>(redis: Redis, key: string, work: () => Promise<T>): Promise<T | undefined> {
  const holder = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  if ((await redis.set(key, holder, 'PX', LEASE_MS, 'NX')) === null) return undefined;
  const renew = setInterval(() => void redis.pexpire(key, LEASE_MS).catch(() => undefined), LEASE_MS / 3);
  try {
    return await work();
  } finally {
    clearInterval(renew);
    if ((await redis.get(key).catch(() => null)) === holder) await redis.del(key).catch(() => undefined);
  }
}

async function lookAt(
  deps: ProbeDeps,
  vm: string,
  entry: WatchEntry,
): Promise<{ outcome: Outcome; look?: Look }> {
  try {
    const look = await deps.look(entry);
    return { outcome: { kind: 'probed', status: look }, look };
  } catch (error) {
    const failed = asGitspacesError(error);
    if (failed.code !== 'VM_NOT_FOUND') return { outcome: { kind: 'unreachable', message: failed.message } };
    // Its fix (check the name and GCP_ZONE) is for a VM named by hand: this one was set up here before.
    const where = [
      entry.vm.project && `project ${entry.vm.project}`,
      entry.vm.zone && `zone ${entry.vm.zone}`,
    ];
    const place = where.filter(Boolean).join(', ');
    const message = `Google has no VM named ${vm}${place ? ` in ${place}` : ''} any more`;
    return { outcome: { kind: 'unreachable', message, gone: true } };
  }
}

/** Probes `vm` once; `probeId` names this probe (the same when its job is taken up again). */
export async function probeWatched(
  deps: ProbeDeps,
  vm: string,
  probeId: string,
): Promise<Health | 'busy' | 'gone'> {
  return (
    (await leased(deps.redis, `${deps.prefix}:watch:vm:${vm}:probing`, async () => {
      const entry = await deps.store.get(vm);
      if (entry === undefined) return 'gone' as const;
      const started = deps.now();
      const { outcome, look } = await lookAt(deps, vm, entry);
      const verdict = decide(
        {
          vm,
          network: deps.network,
          since: entry.vm.since,
          told: entry.told,
          mutedUntil: entry.mutedUntil,
          baseline: entry.baseline,
        },
        outcome,
        deps.now(),
      );
      const target = { vm, project: entry.vm.project, zone: entry.vm.zone };
      for (const notice of verdict.notices) {
        const logs = notice.logsOf.flatMap((container) => {
          const text = look?.logs?.[container];
          return text === undefined ? [] : [{ container, text }];
        });
        await deps.notify(entry.vm.channel, { ...notice, target, logs }, `${probeId}-${notice.kind}`);
        deps.observer?.noticed(notice.kind);
      }
      await deps.store.record(vm, {
        probe: verdict.probe,
        told: verdict.told,
        baseline: verdict.baseline,
        hostKeys: look?.published,
        sshUser: look?.user,
      });
      const { health, diskPercent } = verdict.probe;
      deps.observer?.probed(vm, (deps.now() - started) / 1000, health, diskPercent);
      return verdict.probe.health;
    })) ?? 'busy'
  );
}
