/**
 * Settles with `work`, or rejects with `onTimeout()` once `ms` have passed (the work itself is not stopped).
 * The timer is `AbortSignal.timeout`'s, which never keeps the process alive.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return new Promise<T>((resolve, reject) => {
    const expire = () => reject(onTimeout());
    signal.addEventListener('abort', expire, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', expire));
  });
}
