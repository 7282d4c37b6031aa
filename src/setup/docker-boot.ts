/**
 * Whether Docker starts when the VM boots. The containers' restart policy brings the runner and the delegate
 * back only once dockerd itself runs: with docker.service disabled, a VM that restarts (stopped and started,
 * a Spot VM preempted, host maintenance) comes back with neither. Only systemd's own `disabled` counts as no;
 * any other answer (`enabled`, `static`, no such unit as with Docker from a snap, no systemd running) says
 * nothing.
 */

/**
 * systemd's answer (no root needed); nothing where systemd does not run (a container, WSL): nothing boots
 * there, and `systemctl enable --now` would fail.
 */
export const BOOT_STATE_SCRIPT =
  '[ "$(systemctl is-system-running 2>/dev/null)" != offline ] && systemctl is-enabled docker 2>/dev/null';

/** Starts Docker now and at every boot. */
export const ENABLE_AT_BOOT = ['systemctl', 'enable', '--now', 'docker'];

/** false when systemd says docker.service is disabled; undefined when it cannot tell or does not apply. */
export function startsAtBoot(answer: string): boolean | undefined {
  const state = answer.trim();
  if (state === 'disabled') return false;
  return state === 'enabled' ? true : undefined;
}

/** Said wherever a probe or a check finds it so. */
export const NOT_AT_BOOT =
  'Docker does not start at boot (docker.service is disabled): after the VM restarts, the runner and the delegate stay down';

/** The fix, said after NOT_AT_BOOT. */
export const ENABLE_FIX = 'Run setup again, or `sudo systemctl enable docker` on the VM.';
