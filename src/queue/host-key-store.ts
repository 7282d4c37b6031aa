/**
 * Trust on first use (`SSH_HOST_KEY_POLICY=tofu`): the first host key seen for a VM is recorded under
 * QUEUE_PREFIX and never replaced, so every later run (on any worker) refuses a changed key. Recording is
 * one `SET NX GET`: two runs racing on a new VM agree on whichever key landed first.
 */
import type { Redis } from 'ioredis';
import { GitspacesError } from '../errors.js';
import type { HostKey, HostKeyStore } from '../setup/ports.js';
import { runKeys } from './run-keys.js';

function decode(text: string, vm: string): HostKey {
  const value = JSON.parse(text) as Partial<HostKey>;
  if (typeof value.type !== 'string' || typeof value.base64 !== 'string') {
    throw new GitspacesError(
      'HOST_KEY_UNKNOWN',
      `The host key recorded for ${vm} is unreadable; remove it to learn it again.`,
    );
  }
  return { type: value.type, base64: value.base64 };
}

export function createRedisHostKeyStore(redis: Redis, prefix: string): HostKeyStore {
  const keys = runKeys(prefix);
  return {
    async remember(vm, key) {
      const text = JSON.stringify({ type: key.type, base64: key.base64 });
      const previous = await redis.set(keys.hostKey(vm), text, 'NX', 'GET');
      return previous === null ? { type: key.type, base64: key.base64 } : decode(previous, vm);
    },
    async recall(vm) {
      const text = await redis.get(keys.hostKey(vm));
      return text === null ? undefined : decode(text, vm);
    },
  };
}
