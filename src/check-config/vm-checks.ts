/**
 * What `check-config <vm>` looks at on a VM once Google found it, changing nothing there: whether its sshd
 * answers through the way setup will take (over TCP, SSH_PROXY_COMMAND or IAP), read up to its identification
 * line without logging in; and whether the bot's key is let in, and as whom.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.js';
import { type CheckRow, failedRow } from '../gcp/check.js';
import type { KeyAccess, LocatedVm, SecretSource } from '../setup/ports.js';
import type { Route, RunningProxy } from '../ssh/proxy-command.js';
import { connectError } from '../ssh/ssh-errors.js';

/** The server's identification line (`SSH-2.0-…`); lines before it are allowed (RFC 4253, 4.2). */
function identification(sock: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (settle: () => void) => {
      sock.removeAllListeners('data');
      settle();
    };
    sock.on('data', (chunk: Buffer) => {
      text = (text + chunk.toString('latin1')).slice(-8192);
      const line = text.split(/\r?\n/).find((l, i, all) => l.startsWith('SSH-') && i < all.length - 1);
      if (line !== undefined) done(() => resolve(line));
    });
    // `on`, not `once`: a socket torn down after the answer may still emit an error, which must not go unheard.
    sock.on('error', (error) => done(() => reject(error)));
    sock.once('close', () =>
      done(() => reject(new Error('the connection was closed before sshd said who it is'))),
    );
  });
}

/** Whether sshd answers on the VM, through `route` when SSH does not go over TCP. */
export async function checkReach(
  config: Config,
  vm: LocatedVm,
  route: Route | undefined,
  timeoutMs: number,
): Promise<CheckRow> {
  const check = `SSH to ${vm.name}`;
  const target = { host: vm.address, port: config.ssh.port, user: config.ssh.user };
  const values = { ...target, vm: vm.name, zone: vm.zone, project: vm.project };
  let proxy: RunningProxy | undefined;
  let sock: Duplex | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    proxy = route?.start(values);
    sock = proxy?.sock ?? connect(target.port, target.host);
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('timed out'), { level: 'client-timeout' })),
        timeoutMs,
      );
    });
    const line = await Promise.race([identification(sock), timedOut]);
    const via = route === undefined ? '' : ` ${route.via}`;
    return { check, ok: true, detail: `sshd answers at ${target.host}:${target.port}${via}: ${line.trim()}` };
  } catch (thrown) {
    // A proxy or tunnel that ended says why itself (IAP's refusal, the command's stderr).
    const failure = (await proxy?.failure()) ?? connectError(thrown as Error, target, timeoutMs);
    return failedRow(check, failure);
  } finally {
    clearTimeout(timer);
    sock?.destroy();
    proxy?.stop();
  }
}

/**
 * Whether the VM's metadata (or with OS Login, the bot's own profile) lets the key of SSH_KEY_SECRET in, and
 * as whom; a VM whose OS Login settings shut the bot out is said before any setup tries.
 */
export async function checkKey(
  config: Config,
  vm: LocatedVm,
  keys: KeyAccess,
  secrets: SecretSource,
): Promise<CheckRow[]> {
  const check = `SSH key on ${vm.name}`;
  const reference = config.secrets.sshKey;
  if (reference === undefined) return [];
  try {
    const privateKey = await secrets.read(reference);
    const found = await keys.letIn(vm, config.ssh.user, privateKey, false);
    const detail =
      found === undefined
        ? "not in the VM's ssh-keys metadata (or where OS Login is on, the bot's OS Login profile): setup adds it there if the VM refuses the key (SSH_AUTHORIZE_KEY=auto)"
        : `in ${found.place}: the bot logs in as ${found.user}`;
    return [{ check, ok: true, detail }];
  } catch (thrown) {
    return [failedRow(check, thrown)];
  }
}
