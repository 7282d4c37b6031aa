import { afterEach, beforeEach, expect, it } from 'vitest';
import { createRedisHostKeyStore } from '../../src/queue/host-key-store.js';
import type { HostKeyStore } from '../../src/setup/ports.js';
import { openQueueHarness, type QueueHarness } from '../support/queue-harness.js';

let h: QueueHarness;
let keys: HostKeyStore;
beforeEach(async () => {
  h = await openQueueHarness();
  keys = createRedisHostKeyStore(h.redis, h.prefix);
});
afterEach(async () => {
  await h.close();
});

const key = (n: number) => ({
  type: 'ssh-ed25519',
  base64: `AAAAC3NzaC1lZDI1NTE5AAAAI${String(n).padStart(43, 'x')}`,
});

it('keeps the first host key learned for a VM and never replaces it', async () => {
  expect(await keys.recall('vm-1')).toBeUndefined();
  expect(await keys.remember('vm-1', key(1))).toEqual(key(1));
  expect(await keys.remember('vm-1', key(2))).toEqual(key(1));
  expect(await keys.recall('vm-1')).toEqual(key(1));
  expect(await keys.recall('vm-2')).toBeUndefined();
});

it('makes ten runs racing on a new VM agree on one key', async () => {
  const remembered = await Promise.all(Array.from({ length: 10 }, (_, i) => keys.remember('vm-new', key(i))));
  const first = remembered[0];
  expect(remembered.every((k) => k.base64 === first?.base64)).toBe(true);
  expect(await keys.recall('vm-new')).toEqual(first);
});

it('keeps learned keys under QUEUE_PREFIX, apart from another bot on the same Redis', async () => {
  const other = createRedisHostKeyStore(h.redis, `${h.prefix}-other`);
  await keys.remember('vm-1', key(1));
  expect(await other.recall('vm-1')).toBeUndefined();
  expect((await h.dump()).map((e) => e.key)).toContain(`${h.prefix}:vm:vm-1:host-key`);
});
