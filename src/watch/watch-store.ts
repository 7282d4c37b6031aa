/**
 * Every VM the bot set up, kept in Redis under QUEUE_PREFIX: one hash per VM whose fields have one writer
 * each (the worker that ends a run writes `vm`, probes write `probe`, `told` and `baseline`, commands write
 * `muted`), so a mute never overwrites a probe's result or the other way round. A VM that was forgotten
 * stays forgotten: a probe still running writes nothing once its `vm` field is gone.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../queue/lua-script.js';
import type { RunImages, RunKind } from '../queue/types.js';
import type { HostKey } from '../setup/ports.js';
import type { Fingerprint } from './assess.js';
import type { ProbeSummary, Told } from './verdict.js';

/** What the last successful run left on the VM. */
export interface WatchedVm {
  vm: string;
  project: string | undefined;
  zone: string | undefined;
  channel: string;
  requester: string;
  runId: string;
  /** The run's parent message, for links to its thread. */
  messageTs: string | undefined;
  kind: RunKind;
  images: RunImages;
  delegateName: string | undefined;
  tags: string | undefined;
  /** When that run ended. */
  since: number;
}

export interface WatchEntry {
  vm: WatchedVm;
  probe: ProbeSummary | undefined;
  told: Told | undefined;
  mutedUntil: number | undefined;
  baseline: Record<string, Fingerprint> | undefined;
  /** Host keys the VM published, reused by probes until it offers another. */
  hostKeys: HostKey[] | undefined;
  /** Who logged in at the last look (OS Login's user, where SSH_USER is refused): tried first next time. */
  sshUser: string | undefined;
}

type Field = 'probe' | 'told' | 'baseline' | 'hostKeys' | 'sshUser' | 'muted';

/** KEYS: the VM's hash. ARGV: field, value pairs. Writes only while the VM is watched. */
const SET_IF_WATCHED = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], 'vm') == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`);

export interface WatchStore {
  /** Watches the VM (again) after a successful run: drift is measured from the next healthy probe. */
  watch(vm: WatchedVm): Promise<void>;
  get(vm: string): Promise<WatchEntry | undefined>;
  /** Every watched VM's name, or those of one channel. */
  names(channel?: string): Promise<string[]>;
  list(channel?: string): Promise<WatchEntry[]>;
  /** Writes a probe's result; false when the VM is no longer watched. */
  record(
    vm: string,
    fields: Partial<Pick<WatchEntry, 'probe' | 'told' | 'baseline' | 'hostKeys' | 'sshUser'>>,
  ): Promise<boolean>;
  mute(vm: string, until: number | undefined): Promise<boolean>;
  forget(vm: string): Promise<boolean>;
}

function parse<T>(text: string | undefined): T | undefined {
  if (text === undefined || text === '') return undefined;
  return JSON.parse(text) as T;
}

export function createWatchStore(redis: Redis, prefix: string): WatchStore {
  const vmKey = (vm: string) => `${prefix}:watch:vm:${vm}`;
  const allKey = `${prefix}:watch:vms`;
  const channelKey = (channel: string) => `${prefix}:watch:channel:${channel}`;

  async function get(vm: string): Promise<WatchEntry | undefined> {
    const h = await redis.hgetall(vmKey(vm));
    const watched = parse<WatchedVm>(h.vm);
    if (watched === undefined) return undefined;
    const muted = h.muted === undefined || h.muted === '' ? undefined : Number(h.muted);
    return {
      vm: watched,
      probe: parse(h.probe),
      told: parse(h.told),
      mutedUntil: muted,
      baseline: parse(h.baseline),
      hostKeys: parse(h.hostKeys),
      sshUser: parse(h.sshUser),
    };
  }

  async function names(channel?: string): Promise<string[]> {
    const found =
      channel === undefined
        ? await redis.zrange(allKey, '0', '-1')
        : await redis.smembers(channelKey(channel));
    return found.sort();
  }

  async function set(vm: string, pairs: Array<[Field, string]>): Promise<boolean> {
    if (pairs.length === 0) return (await redis.hexists(vmKey(vm), 'vm')) === 1;
    return Number(await SET_IF_WATCHED.run(redis, [vmKey(vm)], pairs.flat())) === 1;
  }

  return {
    async watch(vm) {
      const before = await get(vm.vm);
      const tx = redis.multi();
      if (before && before.vm.channel !== vm.channel) tx.srem(channelKey(before.vm.channel), vm.vm);
      // A new run's containers are the new reference; what was told about drift was about the old ones.
      tx.hset(vmKey(vm.vm), 'vm', JSON.stringify(vm));
      tx.hdel(vmKey(vm.vm), 'baseline');
      if (before?.told) tx.hset(vmKey(vm.vm), 'told', JSON.stringify({ ...before.told, drift: '' }));
      tx.zadd(allKey, vm.since, vm.vm);
      tx.sadd(channelKey(vm.channel), vm.vm);
      await tx.exec();
    },
    get,
    names,
    async list(channel) {
      const entries = await Promise.all((await names(channel)).map(get));
      return entries.filter((e): e is WatchEntry => e !== undefined);
    },
    record(vm, fields) {
      const pairs = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k as Field, JSON.stringify(v)] as [Field, string]);
      return set(vm, pairs);
    },
    mute(vm, until) {
      return set(vm, [['muted', until === undefined ? '' : String(until)]]);
    },
    async forget(vm) {
      const before = await get(vm);
      if (before === undefined) return false;
      await redis.multi().del(vmKey(vm)).zrem(allKey, vm).srem(channelKey(before.vm.channel), vm).exec();
      return true;
    },
  };
}
